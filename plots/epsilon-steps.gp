# epsilon-steps.gp - epsilon against the number of DP-SGD steps: the RDP
# upper bound, and the PLD upper and lower bounds that enclose the true
# epsilon.  Reads the TSV that "dpacct plot epsilon-steps" writes (columns
# steps, noise_multiplier, sampling_rate, delta, rdp_upper, pld_lower,
# pld_upper; nan where an accountant was not asked for).  By hand:
#   gnuplot -e "datafile='steps.tsv'; outfile='steps.png'" epsilon-steps.gp
if (!exists("datafile")) datafile = "epsilon-steps.tsv"
if (!exists("outfile")) outfile = "epsilon-steps.png"
if (!exists("term")) term = "pngcairo size 900,560 enhanced font 'sans,11'"
eval "set terminal ".term
set output outfile
set datafile separator "\t"
set datafile missing "nan"

stats datafile using "noise_multiplier" nooutput
sigma = STATS_min
stats datafile using "sampling_rate" nooutput
q = STATS_min
stats datafile using "delta" nooutput
delta = STATS_min

set title sprintf("Epsilon of DP-SGD against steps (σ = %g, q = %g, δ = %g)", sigma, q, delta)
set xlabel "steps T"
set ylabel "ε"
set logscale xy
set format x "%g"
set format y "%g"
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key left top box opaque
plot datafile using "steps":"rdp_upper" with linespoints lw 2 pt 6 ps 0.8 lc rgb "#d1495b" title "RDP upper bound", \
     datafile using "steps":"pld_upper" with linespoints lw 2 pt 7 ps 0.6 lc rgb "#1b4f9c" title "PLD upper bound", \
     datafile using "steps":"pld_lower" with linespoints lw 2 dt 2 pt 4 ps 0.6 lc rgb "#2a9d5c" title "PLD lower bound"
