/* cmd_plot.c - "dpacct plot NAME ... --output FILE": writes the rows a
 * figure needs as TSV to a temporary file and runs gnuplot on the figure's
 * script (plots/NAME.gp, installed in pkgdatadir). */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dpacct.h>

#include "commands.h"
#include "options.h"
#include "output.h"

#define STEPS_OPTIONS                                                     \
  (OPT_BIT (OPT_NOISE_MULTIPLIER) | OPT_BIT (OPT_SAMPLING_RATE)           \
   | OPT_BIT (OPT_STEPS) | OPT_BIT (OPT_DELTA) | OPT_BIT (OPT_ACCOUNTANT)  \
   | OPT_BIT (OPT_ORDERS) | OPT_BIT (OPT_NEIGHBOURING)                     \
   | OPT_BIT (OPT_PLD_INTERVAL) | OPT_BIT (OPT_PLD_ACCURACY)               \
   | OPT_BIT (OPT_MAX_POINTS) | OPT_BIT (OPT_HELP))

typedef struct {
  const char *name;    /* NAME, and the script NAME.gp */
  const char *brief;   /* one line for "dpacct plot --help" */
  const char *summary;
  cli_option_mask options;
  cli_option_mask lists;
  const cli_defaults *defaults;
  int (*check) (cli_options *);
  int (*write) (const cli_options *, FILE *);
} figure;

static int
write_plan (const cli_options *o, FILE *stream)
{
  return cmd_plan_print (o, OUT_TSV, stream);
}

/* ------------------------------------------------------------ epsilon-steps */

static const cli_defaults steps_defaults = { 1e-5, NAN, 0, 0, NAN };

/* 1, 2, 5, 10, ... 10^4: the default steps of epsilon-steps. */
static int
check_steps (cli_options *o)
{
  if (!(o->given & OPT_BIT (OPT_SAMPLING_RATE)))
    {
      out_error ("plot epsilon-steps: --sampling-rate is required");
      return 1;
    }
  if (o->n_steps == 0)
    for (uint64_t decade = 1; decade <= 10000; decade *= 10)
      for (int k = 0; k < 3 && !(decade == 10000 && k > 0); k++)
        o->steps_list[o->n_steps++] = decade * (uint64_t[]){ 1, 2, 5 }[k];
  return 0;
}

/* Epsilon bounds by each accountant at a number of steps. */
static int
epsilon_at (const cli_options *o, const dpacct_accountant_type *type,
            uint64_t steps, dpacct_bound *b)
{
  cli_run run;
  dpacct_accountant *accountant;
  memset (&run, 0, sizeof run);
  run.q = o->sampling_rate;
  run.steps = steps;
  int rc = cli_account_run (o, type, &run, o->noise_multiplier, &accountant);
  if (rc)
    return rc;
  int status = dpacct_accountant_epsilon (accountant, o->delta, b);
  dpacct_accountant_free (accountant);
  if (status != DPACCT_OK)
    return cli_library_failure (type, status, "epsilon for the figure");
  return 0;
}

static int
write_steps (const cli_options *o, FILE *stream)
{
  fprintf (stream, "steps\tnoise_multiplier\tsampling_rate\tdelta\t"
           "rdp_upper\tpld_lower\tpld_upper\n");
  for (size_t i = 0; i < o->n_steps; i++)
    {
      dpacct_bound rdp = { NAN, NAN, 0, NAN, 0, 0 }, pld = rdp;
      int rc = 0;
      if (cli_uses (o, dpacct_accountant_rdp))
        rc = epsilon_at (o, dpacct_accountant_rdp, o->steps_list[i], &rdp);
      if (rc == 0 && cli_uses (o, dpacct_accountant_pld))
        rc = epsilon_at (o, dpacct_accountant_pld, o->steps_list[i], &pld);
      if (rc)
        return rc;
      /* The shortest decimals that read back exactly, as every command
       * writes its numbers. */
      const double row[] = { o->noise_multiplier, o->sampling_rate, o->delta,
                             rdp.upper, pld.lower, pld.upper };
      fprintf (stream, "%llu", (unsigned long long) o->steps_list[i]);
      for (size_t j = 0; j < sizeof row / sizeof row[0]; j++)
        {
          char text[40];
          out_shortest (row[j], text, sizeof text);
          fprintf (stream, "\t%s", text);
        }
      fputc ('\n', stream);
    }
  return 0;
}

static const figure figures[] = {
  { "cumulative-noise", "sigma*sqrt(T) against B, per epsilon",
    "Cumulative noise sigma*sqrt(T) against the batch size, one curve per\n"
    "epsilon (and epochs), the recommended batch sizes marked.  Takes the\n"
    "options of 'dpacct cumulative-noise', and --output.",
    CMD_PLAN_OPTIONS, CMD_PLAN_LISTS, &cmd_plan_defaults, cmd_plan_check,
    write_plan },
  { "heuristics", "sigma*C/B, sigma/q and sigma*sqrt(T) against B",
    "The per-step heuristics sigma*C/B and sigma/q against the batch size\n"
    "(both fall all the way to full batch), beside the cumulative noise.\n"
    "Takes the options of 'dpacct cumulative-noise', and --output.",
    CMD_PLAN_OPTIONS, CMD_PLAN_LISTS, &cmd_plan_defaults, cmd_plan_check,
    write_plan },
  { "epsilon-steps", "epsilon against steps: rdp, pld lower and upper",
    "Epsilon against the number of steps: the RDP upper bound and the PLD\n"
    "lower and upper bounds (--accountant all by default).  --steps takes a\n"
    "list (default 1, 2, 5, ..., 10000).",
    STEPS_OPTIONS, OPT_BIT (OPT_STEPS), &steps_defaults, check_steps,
    write_steps },
};
enum { N_FIGURES = sizeof figures / sizeof figures[0] };

/* ------------------------------------------------------------ gnuplot */

/* The gnuplot terminal for FILE's extension, or NULL. */
static const char *
terminal_for (const char *file)
{
  const char *dot = strrchr (file, '.');
  if (dot == NULL || strchr (dot, '/') != NULL)
    return NULL;
  if (strcmp (dot, ".png") == 0)
    return "pngcairo size 900,560 enhanced font 'sans,11'";
  if (strcmp (dot, ".svg") == 0)
    return "svg size 900,560 enhanced font 'sans,11' background rgb 'white'";
  if (strcmp (dot, ".pdf") == 0)
    return "pdfcairo size 6in,3.75in enhanced font 'sans,9'";
  return NULL;
}

/* PROGRAM, if it names an executable, or its first match on $PATH, in
 * BUF; NULL when there is none. */
static const char *
find_program (const char *program, char *buf, size_t size)
{
  if (strchr (program, '/') != NULL)
    return access (program, X_OK) == 0 ? program : NULL;
  const char *path = getenv ("PATH");
  while (path != NULL && *path)
    {
      size_t len = strcspn (path, ":");
      if (len > 0 && (size_t) snprintf (buf, size, "%.*s/%s", (int) len, path,
                                        program) < size
          && access (buf, X_OK) == 0)
        return buf;
      path += len + (path[len] == ':');
    }
  return NULL;
}

static const char *
gnuplot_program (void)
{
  const char *env = getenv ("DPACCT_GNUPLOT");
  if (env != NULL && *env)
    return env;
  return *DPACCT_GNUPLOT_PATH ? DPACCT_GNUPLOT_PATH : "gnuplot";
}

/* The script NAME.gp: from $DPACCT_PLOTS_DIR, the installed pkgdatadir,
 * or the source tree (for the uninstalled tool). */
static int
find_script (const char *name, char *buf, size_t size)
{
  const char *dirs[] = { getenv ("DPACCT_PLOTS_DIR"), DPACCT_PKGDATADIR,
                         DPACCT_SOURCE_PLOTS_DIR };
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (dirs[i] != NULL && *dirs[i]
        && (size_t) snprintf (buf, size, "%s/%s.gp", dirs[i], name) < size
        && access (buf, R_OK) == 0)
      return 0;
  out_error ("plot %s: cannot find the script %s.gp (looked in "
             "$DPACCT_PLOTS_DIR, %s and %s)", name, name, DPACCT_PKGDATADIR,
             DPACCT_SOURCE_PLOTS_DIR);
  return 1;
}

/* TEXT as a gnuplot single-quoted string ('' stands for '). */
static int
quote (const char *text, char *buf, size_t size)
{
  size_t n = 0;
  if (size < 3)
    return 1;
  buf[n++] = '\'';
  for (; *text; text++)
    {
      if (*text == '\n' || n + 4 > size)
        return 1;
      if (*text == '\'')
        buf[n++] = '\'';
      buf[n++] = *text;
    }
  buf[n++] = '\'';
  buf[n] = '\0';
  return 0;
}

static int
run_gnuplot (const char *program, const char *script, const char *data,
             const char *output, const char *terminal)
{
  char qdata[4200], qoutput[4200], setup[9000];
  if (quote (data, qdata, sizeof qdata) || quote (output, qoutput,
                                                  sizeof qoutput))
    {
      out_error ("--output: the file name is too long or has a newline");
      return 1;
    }
  snprintf (setup, sizeof setup, "datafile=%s; outfile=%s; term=\"%s\"",
            qdata, qoutput, terminal);
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    {
      out_error ("plot: cannot start gnuplot: %s", strerror (errno));
      return 2;
    }
  if (pid == 0)
    {
      /* gnuplot's own messages go to stderr; it prints nothing we want. */
      if (freopen ("/dev/null", "w", stdout) == NULL)
        _exit (127);
      execl (program, program, "-e", setup, script, (char *) NULL);
      _exit (127);
    }
  int wstatus;
  while (waitpid (pid, &wstatus, 0) < 0)
    if (errno != EINTR)
      {
        out_error ("plot: lost gnuplot: %s", strerror (errno));
        return 2;
      }
  if (!WIFEXITED (wstatus) || WEXITSTATUS (wstatus) != 0)
    {
      out_error ("plot: gnuplot %s failed (exit status %d) on %s", program,
                 WIFEXITED (wstatus) ? WEXITSTATUS (wstatus) : -1, script);
      return 2;
    }
  struct stat st;
  if (stat (output, &st) != 0 || st.st_size == 0)
    {
      out_error ("plot: gnuplot wrote no image to %s", output);
      return 2;
    }
  return 0;
}

/* Writes the figure's rows to a temporary file and draws them. */
static int
draw (const figure *f, const cli_options *o, const char *program,
      const char *script, const char *terminal)
{
  const char *tmpdir = getenv ("TMPDIR");
  char data[4096];
  snprintf (data, sizeof data, "%s/dpacct-plot-XXXXXX",
            tmpdir != NULL && *tmpdir ? tmpdir : "/tmp");
  int fd = mkstemp (data);
  FILE *stream = fd < 0 ? NULL : fdopen (fd, "w");
  if (stream == NULL)
    {
      out_error ("plot: cannot create a temporary file in %s: %s",
                 tmpdir != NULL && *tmpdir ? tmpdir : "/tmp",
                 strerror (errno));
      if (fd >= 0)
        close (fd), unlink (data);
      return 2;
    }
  int rc = f->write (o, stream);
  if (fclose (stream) != 0 && rc == 0)
    {
      out_error ("plot: cannot write %s: %s", data, strerror (errno));
      rc = 2;
    }
  if (rc == 0)
    rc = run_gnuplot (program, script, data, o->output, terminal);
  unlink (data);
  if (rc == 0)
    printf ("wrote %s (%s)\n", o->output, f->name);
  return rc;
}

/* --output FILE.tsv: the rows the figure would draw, without gnuplot. */
static int
write_data (const figure *f, const cli_options *o)
{
  FILE *stream = fopen (o->output, "w");
  if (stream == NULL)
    {
      out_error ("--output %s: cannot write: %s", o->output, strerror (errno));
      return 1;
    }
  int rc = f->write (o, stream);
  if (fclose (stream) != 0 && rc == 0)
    {
      out_error ("--output %s: cannot write: %s", o->output, strerror (errno));
      rc = 2;
    }
  if (rc)
    unlink (o->output);
  else
    printf ("wrote %s (the data of %s)\n", o->output, f->name);
  return rc;
}

static void
print_help (void)
{
  puts ("Usage: dpacct plot NAME [OPTION]... --output FILE\n"
        "Draw a figure with gnuplot; FILE's extension (.png, .svg, .pdf)\n"
        "picks the format, and FILE.tsv gets the figure's data instead.\n\n"
        "Figures:");
  for (int i = 0; i < N_FIGURES; i++)
    printf ("  %-18s %s\n", figures[i].name, figures[i].brief);
  puts ("\n'dpacct plot NAME --help' lists the options of a figure.\n"
        "Environment: DPACCT_GNUPLOT (the gnuplot program), DPACCT_PLOTS_DIR\n"
        "(where NAME.gp is).  See dpacct(1).");
}

int
cmd_plot (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0)
    {
      if (argc < 2)
        {
          out_error ("plot: missing figure name: cumulative-noise, "
                     "heuristics or epsilon-steps; try 'dpacct plot --help'");
          return 1;
        }
      print_help ();
      return 0;
    }
  const figure *f = NULL;
  for (int i = 0; i < N_FIGURES; i++)
    if (strcmp (argv[1], figures[i].name) == 0)
      f = &figures[i];
  if (f == NULL)
    {
      out_error ("plot %s: unknown figure; available: cumulative-noise, "
                 "heuristics, epsilon-steps", argv[1]);
      return 1;
    }
  /* "plot NAME" names the command in messages; epsilon-steps shows both
   * accountants unless --accountant (which may follow) says otherwise. */
  char command[64];
  snprintf (command, sizeof command, "plot %s", f->name);
  char **args = calloc ((size_t) argc + 2, sizeof *args);
  if (args == NULL)
    {
      out_error ("out of memory");
      return 2;
    }
  int n = 0;
  args[n++] = command;
  if (f->write == write_steps)
    {
      args[n++] = (char *) "--accountant";
      args[n++] = (char *) "all";
    }
  for (int i = 2; i < argc; i++)
    args[n++] = argv[i];
  cli_options o;
  int help, rc;
  /* The figure's data is always TSV, so --format has no place here. */
  cli_option_mask allowed = (f->options & ~OPT_BIT (OPT_FORMAT))
                            | OPT_BIT (OPT_OUTPUT);
  rc = cli_parse_lists (n, args, allowed, f->lists, f->defaults, &o, &help);
  if (rc == 0 && help)
    {
      cli_print_help (stdout, command, f->summary, allowed);
      free (args);
      return 0;
    }
  free (args);
  if (rc)
    return 1;
  const char *terminal = o.output ? terminal_for (o.output) : NULL;
  if (o.output == NULL)
    {
      out_error ("plot %s: --output FILE is required (FILE.png, FILE.svg, "
                 "FILE.pdf or FILE.tsv)", f->name);
      return 1;
    }
  const char *dot = strrchr (o.output, '.');
  if (terminal == NULL && dot != NULL && strcmp (dot, ".tsv") == 0)
    return f->check (&o) ? 1 : write_data (f, &o);
  if (terminal == NULL)
    {
      out_error ("--output %s: must be a file name ending in .png, .svg, "
                 ".pdf or .tsv", o.output);
      return 1;
    }
  char script[4096], found[4096];
  const char *program = find_program (gnuplot_program (), found,
                                      sizeof found);
  if (program == NULL)
    {
      out_error ("plot: gnuplot not found ('%s'); install gnuplot or set "
                 "DPACCT_GNUPLOT (the data alone: --format tsv)",
                 gnuplot_program ());
      return 1;
    }
  if ((rc = find_script (f->name, script, sizeof script)) || (rc = f->check (&o)))
    return rc;
  return draw (f, &o, program, script, terminal);
}

/* ------------------------------------------------------------ for others */

int
cmd_gnuplot (const char *name, const char *data, const char *output)
{
  char script[4096], found[4096];
  const char *terminal = terminal_for (output);
  const char *program = find_program (gnuplot_program (), found,
                                      sizeof found);
  if (terminal == NULL || program == NULL)
    return 1;
  int rc = find_script (name, script, sizeof script);
  return rc ? rc : run_gnuplot (program, script, data, output, terminal);
}
