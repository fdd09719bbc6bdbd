# validate-ghost.gp - the cost of one example's gradient norm for a dense
# layer of width d (d inputs, d outputs) applied to T tokens: the ghost
# formula (T^2 (2d) operations, 2 T^2 doubles) against the materialised
# gradient (T d^2 operations, d^2 doubles).  Mixed ghost clipping picks
# ghost below the crossover T = d/2 (the vertical marks).
#
# Reads DIR/ghost.tsv (one data block per width).  By hand:
#   gnuplot -e "datafile='ghost.tsv'; outfile='validate-ghost.png'" validate-ghost.gp
if (!exists("datafile")) datafile = "ghost.tsv"
if (!exists("outfile")) outfile = "validate-ghost.png"
if (!exists("term")) term = "pngcairo size 900,560 enhanced font 'sans,11'"
eval "set terminal ".term
set output outfile
set datafile separator "\t"
set key top left
set logscale xy 10
set xlabel "tokens T per example"
set ylabel "CPU seconds per example's norm"
set grid
set title "Ghost against materialised per-example norms (Li et al.)"
# Columns: 1 width, 2 tokens, 3 ghost s, 4 materialised s, 5 ghost bytes,
# 6 materialised bytes, 7 predicted ghost (1 or 0).
stats datafile using 1 nooutput
plot for [i=0:STATS_blocks-1] datafile index i using 2:3 with linespoints lw 2 pt 7 \
       lc i+1 title sprintf("ghost, d = %d", int(STATS_min) * 4**i), \
     for [i=0:STATS_blocks-1] datafile index i using 2:4 with linespoints lw 2 dt 2 pt 6 \
       lc i+1 title sprintf("materialised, d = %d", int(STATS_min) * 4**i)
