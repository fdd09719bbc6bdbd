# cumulative-noise.gp - the cumulative noise sigma*sqrt(T) against the
# batch size B at a fixed number of epochs, one curve per epsilon (and
# epochs, and accountant), the recommended batch sizes marked.
#
# Reads the TSV of "dpacct cumulative-noise --format tsv"; "dpacct plot
# cumulative-noise ... --output FILE" runs it.  By hand:
#   gnuplot -e "datafile='plan.tsv'; outfile='plan.png'" cumulative-noise.gp
if (!exists("datafile")) datafile = "cumulative-noise.tsv"
if (!exists("outfile")) outfile = "cumulative-noise.png"
if (!exists("term")) term = "pngcairo size 900,560 enhanced font 'sans,11'"
eval "set terminal ".term
set output outfile
set datafile separator "\t"

# The curves: one per (accountant, epsilon, epochs), in the file's order,
# as three parallel word lists; the header row is skipped.
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
name(i) = sprintf("ε = %s, %s epochs%s", word(G_eps, i), word(G_ep, i), \
  many_accountants ? " (".word(G_acc, i).")" : "")

set title "Cumulative noise σ√T at a fixed number of epochs (lower trains better)"
set xlabel "batch size B"
set ylabel "cumulative noise σ√T (units of C)"
set logscale xy
set format x "%g"
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key inside left bottom box opaque
set offsets graph 0.02, graph 0.12, 0, 0
# Dark colours that stay apart on white and in grey.
set linetype 1 lc rgb "#1b4f9c"
set linetype 2 lc rgb "#d1495b"
set linetype 3 lc rgb "#2a9d5c"
set linetype 4 lc rgb "#8e44ad"
set linetype 5 lc rgb "#e07b00"
set linetype 6 lc rgb "#333333"
set linetype cycle 6

plot for [i=1:n] datafile using (ours(i) ? column("batch_size") : NaN):"cumulative_noise" \
       with linespoints lw 2 pt 6 ps 0.8 lc i title name(i), \
     for [i=1:n] datafile using (ours(i) && column("recommended") == 1 ? column("batch_size") : NaN):"cumulative_noise" \
       with points pt 7 ps 2 lc i title (i == 1 ? "recommended B" : ""), \
     for [i=1:n] datafile using (ours(i) && column("recommended") == 1 ? column("batch_size") : NaN):"cumulative_noise":(sprintf(" B = %d", column("batch_size"))) \
       with labels left offset 0.8, 0.8 tc lt i notitle
