# validate-batch.gp - what "dpacct validate --report-dir DIR" measured over
# the batch size B and the epochs: test accuracy (best learning rate,
# mean over seeds) against B (left) and against the cumulative noise
# sigma*sqrt(T) that Rehn et al. say predicts it (right), per epsilon.
#
# Reads DIR/batches.tsv (one data block per epsilon).  By hand:
#   gnuplot -e "datafile='batches.tsv'; outfile='validate-batch.png'" validate-batch.gp
if (!exists("datafile")) datafile = "batches.tsv"
if (!exists("outfile")) outfile = "validate-batch.png"
if (!exists("term")) term = "pngcairo size 1100,500 enhanced font 'sans,11'"
eval "set terminal ".term
set output outfile
set datafile separator "\t"
set multiplot layout 1,2 title "Pretrained MLP, full DP fine-tuning: batch size, epochs and cumulative noise"
set key bottom right
set grid
set ylabel "test accuracy (best learning rate)"
# Columns: 1 epsilon, 2 B, 3 epochs, 4 C, 5 trainable, 6 noise,
# 7 accuracy, 8 sigma*sqrt(T), 9 sigma*C/B, ...
set logscale x 2
set xlabel "expected batch size B (point size: epochs)"
plot for [i=0:1] datafile index i using 2:7:($3 / 2 + 0.5) with points pt 7 ps variable \
       title sprintf("ε = %s", i == 0 ? "0.5" : "8")
set logscale x 10
set xlabel "cumulative noise σ√T"
plot for [i=0:1] datafile index i using 8:7:($3 / 2 + 0.5) with points pt 7 ps variable \
       title sprintf("ε = %s", i == 0 ? "0.5" : "8")
unset multiplot
