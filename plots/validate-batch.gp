# validate-batch.gp - what "dpacct validate --report-dir DIR" measured:
# test accuracy (best learning rate) against the batch size B at fixed
# epochs, one curve per epsilon, with the cumulative noise sigma*sqrt(T)
# that predicts it on the right axis and the plan's recommended B marked.
#
# Reads DIR/batches.tsv (one data block per epsilon).  By hand:
#   gnuplot -e "datafile='batches.tsv'; outfile='validate-batch.png'" validate-batch.gp
if (!exists("datafile")) datafile = "batches.tsv"
if (!exists("outfile")) outfile = "validate-batch.png"
if (!exists("term")) term = "pngcairo size 900,560 enhanced font 'sans,11'"
eval "set terminal ".term
set output outfile
set datafile separator "\t"
set key bottom right
set logscale x 2
set xlabel "expected batch size B (4 epochs, N = 5,000)"
set ylabel "test accuracy (best learning rate)"
set y2label "cumulative noise σ√T"
set ytics nomirror
set y2tics
set grid
set title "Fashion-MNIST, K = 256 PCA features: accuracy and the cumulative noise that predicts it"
# Columns: 1 epsilon, 2 batch size, 3 accuracy, 4 cumulative noise,
# 5 per-step noise, 6 sigma, 7 steps, 8 recommended (1 or 0).
plot for [i=0:1] datafile index i using 2:3 \
       with linespoints lw 2 pt 7 title sprintf("accuracy, ε = %s", i == 0 ? "0.5" : "8"), \
     for [i=0:1] datafile index i using 2:4 axes x1y2 \
       with lines dt 2 lw 1.5 title sprintf("σ√T, ε = %s", i == 0 ? "0.5" : "8"), \
     for [i=0:1] datafile index i using 2:($8 > 0 ? $3 : 1/0) \
       with points pt 6 ps 2.5 lc rgb "black" title (i == 0 ? "plan's recommended B" : "")
