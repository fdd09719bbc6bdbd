# validate-modes.gp - full DP fine-tuning against DP-BiTFiT (the biases
# only), with Gaussian and with Laplace (lap2) noise, per epsilon: test
# accuracy, labelled with the trainable parameters.
#
# Reads DIR/modes.tsv.  By hand:
#   gnuplot -e "datafile='modes.tsv'; outfile='validate-modes.png'" validate-modes.gp
if (!exists("datafile")) datafile = "modes.tsv"
if (!exists("outfile")) outfile = "validate-modes.png"
if (!exists("term")) term = "pngcairo size 900,560 enhanced font 'sans,11'"
eval "set terminal ".term
set output outfile
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set ylabel "test accuracy (best learning rate)"
set grid ytics
set xtics rotate by -25 left
set bmargin 6
set key top left
set title "Full fine-tuning against DP-BiTFiT, Gaussian and Laplace noise (labels: trainable parameters)"
# Columns: 1 epsilon, 2 mode, 3 accuracy, 4 parameters, 5 seconds.
plot datafile using 3:xticlabels(sprintf("%s ε %s", strcol(2), strcol(1))) \
       title "accuracy" lc rgb "#4477aa", \
     datafile using ($0):($3 + 0.02):(sprintf("%d", $4)) with labels notitle
