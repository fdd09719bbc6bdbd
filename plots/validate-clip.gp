# validate-clip.gp - what "dpacct validate --report-dir DIR" measured over
# the clipping bound C: test accuracy (best learning rate, mean over
# seeds) of full fine-tuning against C, one curve per epsilon, and on the
# right axis the per-example gradient norms before clipping (median, with
# the 10 % and 90 % quantiles) that explain where C starts to bite.
#
# Reads DIR/clip.tsv (one data block per epsilon).  By hand:
#   gnuplot -e "datafile='clip.tsv'; outfile='validate-clip.png'" validate-clip.gp
if (!exists("datafile")) datafile = "clip.tsv"
if (!exists("outfile")) outfile = "validate-clip.png"
if (!exists("term")) term = "pngcairo size 900,560 enhanced font 'sans,11'"
eval "set terminal ".term
set output outfile
set datafile separator "\t"
set key center right
set logscale x 10
set logscale y2 10
set xlabel "clipping bound C (flat clipping; learning rate / C)"
set ylabel "test accuracy (best learning rate)"
set y2label "||g|| before clipping (first epoch)"
set ytics nomirror
set y2tics
set grid
set title "Pretrained MLP, full DP fine-tuning: accuracy against C per ε"
# Columns: 1 epsilon, 2 B, 3 epochs, 4 C, 5 trainable, 6 noise,
# 7 accuracy, 8 sigma*sqrt(T), 9 sigma*C/B, 10-12 norm quantiles 10/50/90,
# 13 clip fraction, 14 parameters, 15 seconds.
plot for [i=0:1] datafile index i using 4:7 \
       with linespoints lw 2 pt 7 title sprintf("accuracy, ε = %s", i == 0 ? "0.5" : "8"), \
     datafile index 0 using 4:11:10:12 axes x1y2 with yerrorbars pt 2 lc rgb "gray40" \
       title "median ||g|| (10-90 %), ε = 0.5"
