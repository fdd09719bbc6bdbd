# heuristics.gp - the per-step heuristics against the batch size B at a
# fixed number of epochs: the noise on the averaged gradient sigma*C/B and
# the effective noise sigma/q fall all the way to full batch, while the
# cumulative noise sigma*sqrt(T) (right) flattens out.  One curve per
# epsilon (and epochs, and accountant), recommended batch sizes marked.
#
# Reads the TSV of "dpacct cumulative-noise --format tsv"; "dpacct plot
# heuristics ... --output FILE" runs it.  By hand:
#   gnuplot -e "datafile='plan.tsv'; outfile='heuristics.png'" heuristics.gp
if (!exists("datafile")) datafile = "cumulative-noise.tsv"
if (!exists("outfile")) outfile = "heuristics.png"
if (!exists("term")) term = "pngcairo size 900,560 enhanced font 'sans,11'"
eval "set terminal ".term
set output outfile
set datafile separator "\t"

# The curves, as in cumulative-noise.gp.
G_acc = ""; G_eps = ""; G_ep = ""; seen = " "
add(a, e, t) = (a eq "accountant" || strstrt(seen, " ".a."/".e."/".t." ")) ? 0 \
  : (seen = seen.a."/".e."/".t." ", G_acc = G_acc." ".a, G_eps = G_eps." ".e, \
     G_ep = G_ep." ".t, 0)
stats datafile using (add(strcol("accountant"), strcol("epsilon"), strcol("epochs"))) nooutput
stats datafile using "clip" nooutput
clip0 = STATS_min
n = words(G_eps)
many_accountants = strstrt(seen, " rdp/") && strstrt(seen, " pld/")
ours(i) = strcol("accountant") eq word(G_acc, i) \
  && strcol("epsilon") eq word(G_eps, i) && strcol("epochs") eq word(G_ep, i) \
  && column("clip") == clip0
name(i) = sprintf("ε = %s%s", word(G_eps, i), \
  many_accountants ? " (".word(G_acc, i).")" : "")

set linetype 1 lc rgb "#1b4f9c"
set linetype 2 lc rgb "#d1495b"
set linetype 3 lc rgb "#2a9d5c"
set linetype 4 lc rgb "#8e44ad"
set linetype 5 lc rgb "#e07b00"
set linetype 6 lc rgb "#333333"
set linetype cycle 6
set logscale xy
set format x "%.0s%c"
set format y "%g"
set grid xtics ytics lc rgb "#dddddd"
set xlabel "batch size B"
set key left bottom box opaque font ",9"

set multiplot layout 1, 3 title sprintf("Per-step heuristics vs cumulative noise, %s epochs (C = %g)", word(G_ep, 1), clip0)
set title "σC/B (noise on the mean gradient)"
plot for [i=1:n] datafile using (ours(i) ? column("batch_size") : NaN):"per_step_noise" \
       with linespoints lw 2 pt 6 ps 0.6 lc i title name(i), \
     for [i=1:n] datafile using (ours(i) && column("recommended") == 1 ? column("batch_size") : NaN):"per_step_noise" \
       with points pt 7 ps 1.6 lc i notitle
set title "σ/q (effective noise)"
unset key
plot for [i=1:n] datafile using (ours(i) ? column("batch_size") : NaN):"effective_noise" \
       with linespoints lw 2 pt 6 ps 0.6 lc i notitle, \
     for [i=1:n] datafile using (ours(i) && column("recommended") == 1 ? column("batch_size") : NaN):"effective_noise" \
       with points pt 7 ps 1.6 lc i notitle
set title "σ√T (cumulative noise)"
plot for [i=1:n] datafile using (ours(i) ? column("batch_size") : NaN):"cumulative_noise" \
       with linespoints lw 2 pt 6 ps 0.6 lc i notitle, \
     for [i=1:n] datafile using (ours(i) && column("recommended") == 1 ? column("batch_size") : NaN):"cumulative_noise" \
       with points pt 7 ps 1.6 lc i notitle
unset multiplot
