/* options.h - the one option parser shared by every dpacct command, and
 * the library inputs and echoed assumptions that the options make.
 *
 * Each command says which options it takes; values are checked against
 * their documented ranges here, so commands see only valid input. */
#ifndef DPACCT_TOOL_OPTIONS_H
#define DPACCT_TOOL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <dpacct.h>

#include "output.h"

typedef enum {
  OPT_NOISE_MULTIPLIER,
  OPT_SAMPLING_RATE,
  OPT_STEPS,
  OPT_DELTA,
  OPT_EPSILON,
  OPT_DATASET_SIZE,
  OPT_BATCH_SIZE,
  OPT_EPOCHS,
  OPT_ACCOUNTANT,
  OPT_ORDERS,
  OPT_CERTIFIED,
  OPT_NEIGHBOURING,
  OPT_SAMPLING,
  OPT_FORMAT,
  OPT_REL_TOL,
  OPT_PLD_INTERVAL,
  OPT_PLD_ACCURACY,
  OPT_MAX_POINTS,
  OPT_BATCH_SIZES,
  OPT_CLIP,
  OPT_DIMENSION,
  OPT_PLATEAU_TOLERANCE,
  OPT_MIN_STEPS,
  OPT_OUTPUT,
  /* The trainer's commands: train, audit, validate. */
  OPT_DATA,
  OPT_TEST_DATA,
  OPT_PUBLIC_SIZE,
  OPT_FEATURES,
  OPT_CACHE_DIR,
  OPT_CLIPPING,
  OPT_LEARNING_RATE,
  OPT_OPTIMIZER,
  OPT_MOMENTUM,
  OPT_SAMPLING_SEED,
  OPT_NOISE_SEED,
  OPT_SEED,
  OPT_VARIANT,
  OPT_PAIRS,
  OPT_QUICK,
  OPT_SHARD,
  OPT_REPORT_DIR,
  OPT_NOISE,
  /* Laplace noise on L2-clipped gradients (the lap2 accountants); they
   * share --clip and --dimension with the planning options above. */
  OPT_LAPLACE_SCALE,
  OPT_MAX_ORDER,
  OPT_COMPARE_GAUSSIAN,
  /* Samplers beyond the library's events (cmd_sampler.c). */
  OPT_MAX_BATCH_SIZE,
  OPT_SAMPLER,        /* the trainer's batches: poisson or shuffle */
  /* Runs of several phases (run.c). */
  OPT_RUN,
  OPT_PHASE,
  /* train: the network to fine-tune (issue 17). */
  OPT_MODEL,
  OPT_TRAINABLE,
  OPT_HIDDEN,
  OPT_TOKENS,
  /* train: the MLP's public warm start. */
  OPT_PRETRAIN_EPOCHS,
  OPT_PUBLIC_CLASSES,
  OPT_HELP,
  OPT_N
} cli_option_id;
_Static_assert (OPT_N <= 64, "cli_option_mask has one bit per option");

/* A set of options, one bit per cli_option_id (room for 64). */
typedef uint64_t cli_option_mask;
#define OPT_BIT(id) ((cli_option_mask) 1 << (id))
/* Options every accounting command takes. */
#define OPT_COMMON                                                        \
  (OPT_BIT (OPT_SAMPLING_RATE) | OPT_BIT (OPT_STEPS)                      \
   | OPT_BIT (OPT_DATASET_SIZE) | OPT_BIT (OPT_BATCH_SIZE)                \
   | OPT_BIT (OPT_EPOCHS) | OPT_BIT (OPT_ACCOUNTANT) | OPT_BIT (OPT_ORDERS) \
   | OPT_BIT (OPT_CERTIFIED) | OPT_BIT (OPT_NEIGHBOURING)                 \
   | OPT_BIT (OPT_SAMPLING) | OPT_BIT (OPT_FORMAT) | OPT_BIT (OPT_HELP)   \
   | OPT_BIT (OPT_PLD_INTERVAL) | OPT_BIT (OPT_PLD_ACCURACY)              \
   | OPT_BIT (OPT_MAX_POINTS) | OPT_LAP2_COMMON)
/* Options of Laplace noise on L2-clipped gradients (the Lap2 accountants)
 * that every accounting command takes; epsilon and delta also take
 * --laplace-scale. */
#define OPT_LAP2_COMMON                                                   \
  (OPT_BIT (OPT_CLIP) | OPT_BIT (OPT_DIMENSION) | OPT_BIT (OPT_MAX_ORDER))

/* The options of runs with several phases, for the commands that take
 * them. */
#define OPT_RUNS (OPT_BIT (OPT_RUN) | OPT_BIT (OPT_PHASE))

enum { CLI_MAX_ORDERS = 1000, CLI_MAX_ACCOUNTANTS = 4 };
/* Most --phase options on one command line. */
enum { CLI_MAX_PHASE_OPTIONS = 256 };
/* Longest lists of list-valued options (see cli_parse_lists). */
enum { CLI_MAX_LIST = 64, CLI_MAX_BATCH_SIZES = 256 };

/* --sampling beyond the library's dpacct_sampling: the epoch samplers,
 * accounted by cmd_sampler.c (then `sampling` stays poisson). */
typedef enum {
  CLI_SAMPLER_EVENT,        /* poisson, without-replacement or none */
  CLI_SAMPLER_SHUFFLE,
  CLI_SAMPLER_SHUFFLE_ONCE,
  CLI_SAMPLER_BALLS_AND_BINS
} cli_sampler;

typedef struct {
  const char *command; /* "epsilon", for messages */
  cli_option_mask given;      /* OPT_BIT of each option on the command line */
  double noise_multiplier;
  double sampling_rate;
  uint64_t steps;
  double delta;
  double epsilon;
  uint64_t dataset_size;
  uint64_t batch_size;
  double epochs;
  /* What --accountant names ("rdp", "pld" or "all"), and the accountants
   * that it stands for, in output order. */
  const char *accountant_name;
  const dpacct_accountant_type *accountants[CLI_MAX_ACCOUNTANTS];
  size_t n_accountants;
  double orders[CLI_MAX_ORDERS];
  size_t n_orders; /* 0: the accountant's default grid */
  int certified;
  dpacct_neighbouring neighbouring;
  dpacct_sampling sampling;
  out_format format;
  double rel_tol;
  double pld_interval; /* 0: automatic */
  double pld_accuracy;
  uint64_t max_points;
  /* List-valued options (cli_parse_lists); the scalar fields above hold
   * the first value of --epsilon, --epochs and --steps. */
  cli_option_mask lists;      /* options that took a list */
  double epsilons[CLI_MAX_LIST];
  size_t n_epsilons;
  double epochs_list[CLI_MAX_LIST];
  size_t n_epochs;
  uint64_t steps_list[CLI_MAX_LIST];
  size_t n_steps;
  uint64_t batch_sizes[CLI_MAX_BATCH_SIZES];
  size_t n_batch_sizes;
  /* --batch-sizes FIRST:LAST: the range as given (n_batch_sizes is 0
   * until cli_batch_sizes expands it). */
  uint64_t batch_first, batch_last;
  double clips[CLI_MAX_LIST];
  size_t n_clips;
  double clip;                /* the first --clip (default 1) */
  uint64_t dimension;         /* 0: not given */
  double plateau_tolerance;
  uint64_t min_steps;
  const char *output;         /* --output FILE */
  /* The trainer's commands (see cmd_train.c); 0 or NULL: not given. */
  const char *data;           /* "fashion-mnist" or a file */
  const char *test_data;
  uint64_t public_size;
  uint64_t features;
  const char *cache_dir;
  int clipping;               /* a dpacct_clipping */
  double learning_rate;
  int optimizer;              /* a dpacct_optimizer */
  double momentum;
  uint64_t sampling_seed, noise_seed, seed;
  int variant;                /* a dpacct_audit_variant */
  uint64_t pairs;
  int quick;
  uint64_t shard_index, shard_count; /* --shard I/N: 1 <= I <= N */
  const char *report_dir;
  int noise;                  /* --noise: a dpacct_noise_kind */
  int model;                  /* --model: 0 head, 1 mlp */
  int trainable;              /* --trainable: a dpacct_trainable */
  uint64_t hidden;            /* --hidden units of the MLP */
  uint64_t tokens;            /* --tokens through the MLP's first layer */
  int raw_features;           /* --features raw: the inputs, no PCA */
  uint64_t pretrain_epochs;   /* --pretrain-epochs (0: no warm start) */
  /* --public-classes: the labels the warm start sees (0: all). */
  unsigned public_classes[256];
  size_t n_public_classes;
  const char *public_classes_text; /* as given */
  /* Lap2: nonzero when the mechanism is Laplace on L2-clipped gradients
   * (a lap2 accountant was named, or a Laplace option given). */
  int laplace;
  double laplace_scale;
  unsigned max_order;  /* 0: the accountant's default */
  int compare_gaussian;
  int want_lower;      /* lap2: compute the lower side (epsilon, delta) */
  cli_sampler sampler;        /* --sampling shuffle, ... */
  uint64_t max_batch_size;    /* --max-batch-size (capped Poisson); 0: none */
  int train_shuffle;          /* --sampler shuffle (the trainer) */
  /* Runs (run.c): --run FILE, each --phase, and whether the run goes the
   * way of runs: phases given, or Laplace noise with rdp or pld. */
  const char *run_file;
  const char *phase_texts[CLI_MAX_PHASE_OPTIONS];
  size_t n_phase_texts;
  int run_mode;
  /* cumulative-noise --run: the spent phases, before the planned one. */
  const dpacct_event *spent;
} cli_options;

/* The DP-SGD run, however it was given. */
typedef struct {
  double q;
  uint64_t steps;
  int from_epochs; /* steps = ceil(epochs / q) from the three below */
  int from_batch;  /* steps given, q = batch_size / dataset_size */
  uint64_t dataset_size;
  uint64_t batch_size;
  double epochs;
} cli_run;

/* Values the command assumes when an option is absent; NaN or 0 means
 * the option is required. */
typedef struct {
  double delta;
  double epsilon;
  uint64_t dataset_size;
  uint64_t batch_size;
  double epochs;
} cli_defaults;

/* Parses ARGV (ARGV[0] is the command name) accepting only the ALLOWED
 * options, and fills in the defaults.  Returns 0, or 1 after printing one
 * error line.  *HELP is set when --help was given. */
int cli_parse (int argc, char **argv, cli_option_mask allowed,
               const cli_defaults *defaults, cli_options *options,
               int *help);

/* cli_parse, where the options in LISTS (among --epsilon, --epochs and
 * --steps) may also be comma-separated lists.  --batch-sizes and --clip
 * are always lists. */
int cli_parse_lists (int argc, char **argv, cli_option_mask allowed,
                     cli_option_mask lists, const cli_defaults *defaults,
                     cli_options *options, int *help);

/* Expands --batch-sizes (a list, or a range FIRST:LAST: powers of two
 * times FIRST below LAST, then LAST; default 64:N, or 1:N when N < 64)
 * and checks every batch size against DATASET_SIZE.  Returns 0, or 1
 * after one error line. */
int cli_batch_sizes (cli_options *options, uint64_t dataset_size);

void cli_accountant_options (const cli_options *options,
                             dpacct_accountant_options *out);

/* Nonzero when TYPE accounts Laplace noise on L2-clipped sums and not
 * Gaussian noise (the Lap2 accountants), as the library says. */
int cli_is_lap2 (const dpacct_accountant_type *type);

/* Nonzero when OPTIONS account with TYPE (alone or among others). */
int cli_uses (const cli_options *options, const dpacct_accountant_type *type);
/* Nonzero when an accountant chosen reads the library setting KEY
 * ("orders", "pld-rel-accuracy", ...). */
int cli_takes (const cli_options *options, const char *key);

/* An accountant of TYPE, set up from OPTIONS, that has composed the
 * DP-SGD RUN at noise NOISE: the noise multiplier sigma, or for the Lap2
 * accountants the Laplace scale b (with --clip and --dimension).  Returns
 * 0, or the exit status after one error line. */
int cli_account_run (const cli_options *options,
                     const dpacct_accountant_type *type, const cli_run *run,
                     double noise, dpacct_accountant **out);

/* The Gaussian noise multiplier that the rdp accountant calibrates to
 * EPSILON at the run's delta (--compare-gaussian), in *SIGMA.  Returns 0,
 * or the exit status after one error line. */
int cli_gaussian_for_epsilon (const cli_options *options, const cli_run *run,
                              double epsilon, double *sigma);

/* Reports a failed library call of accountant TYPE made for WHAT, with a
 * hint for PLD's memory cap; returns the exit status. */
int cli_library_failure (const dpacct_accountant_type *type, int status,
                         const char *what);

/* What the accountants in OPTIONS cannot be asked (--orders without rdp,
 * the PLD grid without pld); 0, or 1 after one error line. */
int cli_check_accountants (const cli_options *options);

/* The long name of option ID ("noise-multiplier"). */
const char *cli_option_name (cli_option_id id);

void cli_print_help (FILE *stream, const char *command, const char *summary,
                     cli_option_mask allowed);

/* Names for output. */
const char *cli_clipping_name (int clipping);
const char *cli_optimizer_name (int optimizer);
const char *cli_variant_name (int variant);
const char *cli_noise_name (int noise);
const char *cli_trainable_name (int trainable);
const char *cli_sampling_name (dpacct_sampling sampling);
const char *cli_sampler_name (cli_sampler sampler);
const char *cli_neighbouring_name (dpacct_neighbouring neighbouring);

#endif
