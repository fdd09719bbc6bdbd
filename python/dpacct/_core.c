/* _core.c - the C half of the Python module dpacct: one function per
 * library entry point, taking numbers and tuples and returning tuples.
 * The Pythonic API (dpacct/_api.py, dpacct/_accountant.py) is built on
 * these.  Only libdpacct's public API is used.  Every function converts
 * its arguments while holding the GIL, then releases it around the
 * library's work, so that several threads can account at once. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include <dpacct.h>

/* ------------------------------------------------------------ errors */

/* The library reports each error to a process-wide hook, in the thread
 * that made the call; each thread keeps its own last message. */
static _Thread_local int last_code;
static _Thread_local char last_message[256];

static void
remember_error (int code, const char *message, const char *where)
{
  (void) where;
  last_code = code;
  snprintf (last_message, sizeof last_message, "%s",
            message != NULL ? message : "");
}

static void
forget_error (void)
{
  last_code = DPACCT_OK;
  last_message[0] = '\0';
}

/* Raises the exception of STATUS: ValueError for bad input or an
 * unreachable request, MemoryError, or ArithmeticError for a numerical
 * failure; the message is the library's own when it is about STATUS. */
static PyObject *
raise_status (int status)
{
  const char *detail = last_code == status && last_message[0] != '\0'
                           ? last_message : dpacct_strerror (status);
  PyObject *type;
  switch (status)
    {
    case DPACCT_EDOM:
    case DPACCT_ERANGE:
    case DPACCT_EUNSUP:
    case DPACCT_EINVAL:
      type = PyExc_ValueError;
      break;
    case DPACCT_ENOMEM:
      type = PyExc_MemoryError;
      break;
    default:
      type = PyExc_ArithmeticError;
    }
  PyErr_SetString (type, detail);
  return NULL;
}

/* ------------------------------------------------------------ arguments */

/* "O&" converter: a count (an integer, by __index__) as uint64_t.
 * Negative values become 0 and values past 2^64 - 1 become 2^64 - 1, so
 * that the library rejects them with its own message. */
static int
to_count (PyObject *object, void *address)
{
  uint64_t *out = address;
  PyObject *index = PyNumber_Index (object);
  if (index == NULL)
    return 0;
  int overflow;
  long long value = PyLong_AsLongLongAndOverflow (index, &overflow);
  if (value == -1 && PyErr_Occurred ())
    {
      Py_DECREF (index);
      return 0;
    }
  if (overflow < 0 || (overflow == 0 && value < 0))
    *out = 0;
  else if (overflow == 0)
    *out = (uint64_t) value;
  else
    {
      unsigned long long big = PyLong_AsUnsignedLongLong (index);
      if (big == (unsigned long long) -1 && PyErr_Occurred ())
        {
          PyErr_Clear ();
          big = UINT64_MAX;
        }
      *out = big;
    }
  Py_DECREF (index);
  return 1;
}

/* The accountant and its settings, from the tuple the Python side builds:
 * (name, neighbouring, certified, orders, pld_interval, pld_accuracy,
 * max_points, max_order, lap2_lower_bound).  orders is None or a tuple of
 * floats; a None number keeps the library's default. */
typedef struct {
  const dpacct_accountant_type *type;
  dpacct_accountant_options options;
  double *orders; /* owned; the "orders" setting points here */
} settings;

static void
settings_clear (settings *s)
{
  PyMem_Free (s->orders);
  s->orders = NULL;
}

static int
optional_real (PyObject *object, double *out)
{
  if (object == Py_None)
    return 0;
  double value = PyFloat_AsDouble (object);
  if (value == -1.0 && PyErr_Occurred ())
    return -1;
  *out = value;
  return 0;
}

/* -1 with the library's error raised unless STATUS is DPACCT_OK. */
static int
set_status (int status)
{
  if (status == DPACCT_OK)
    return 0;
  raise_status (status);
  return -1;
}

/* A setting given as a Python number, or None for the library's default. */
static int
optional_setting (PyObject *object, const char *key, settings *s)
{
  double value;
  if (object == Py_None)
    return 0;
  if (optional_real (object, &value))
    return -1;
  return set_status (dpacct_accountant_options_set_double (&s->options, key,
                                                           value));
}

static int
orders_parse (PyObject *orders, settings *s)
{
  if (orders == Py_None)
    return 0;
  if (!PyTuple_Check (orders))
    {
      PyErr_SetString (PyExc_TypeError, "orders must be a tuple");
      return -1;
    }
  Py_ssize_t n = PyTuple_GET_SIZE (orders);
  s->orders = PyMem_Calloc (n > 0 ? (size_t) n : 1, sizeof *s->orders);
  if (s->orders == NULL)
    {
      PyErr_NoMemory ();
      return -1;
    }
  for (Py_ssize_t i = 0; i < n; i++)
    {
      s->orders[i] = PyFloat_AsDouble (PyTuple_GET_ITEM (orders, i));
      if (s->orders[i] == -1.0 && PyErr_Occurred ())
        return -1;
    }
  return set_status (dpacct_accountant_options_set_doubles (
      &s->options, "orders", s->orders, (size_t) n));
}

static int
settings_parse (PyObject *tuple, settings *s)
{
  const char *name;
  int neighbouring, certified, lap2_lower;
  PyObject *orders, *interval, *accuracy, *max_points, *max_order;
  s->orders = NULL;
  if (!PyArg_ParseTuple (tuple, "siiOOOOOp:settings", &name, &neighbouring,
                         &certified, &orders, &interval, &accuracy,
                         &max_points, &max_order, &lap2_lower))
    return -1;
  s->type = dpacct_accountant_type_by_name (name);
  if (s->type == NULL)
    {
      PyErr_Format (PyExc_ValueError, "unknown accountant '%s' (one of "
                    "pld, rdp, lap2, lap2-paper)", name);
      return -1;
    }
  dpacct_accountant_options_init (&s->options);
  dpacct_accountant_options *o = &s->options;
  uint64_t points = 0, order = 0;
  forget_error ();
  /* Counts past INT64_MAX are out of every range: the setter says so. */
  if (set_status (dpacct_accountant_options_set_int (
          o, "neighbouring",
          neighbouring ? DPACCT_REPLACE_ONE : DPACCT_ADD_REMOVE))
      || set_status (dpacct_accountant_options_set_int (o, "certified",
                                                        certified != 0))
      || set_status (dpacct_accountant_options_set_int (o, "lap2-lower-bound",
                                                        lap2_lower))
      || optional_setting (interval, "pld-interval", s)
      || optional_setting (accuracy, "pld-rel-accuracy", s)
      || (max_points != Py_None && !to_count (max_points, &points))
      || (max_order != Py_None && !to_count (max_order, &order))
      || (max_points != Py_None
          && set_status (dpacct_accountant_options_set_int (
              o, "pld-max-points",
              points > INT64_MAX ? INT64_MAX : (int64_t) points)))
      || (max_order != Py_None
          && set_status (dpacct_accountant_options_set_int (
              o, "lap2-max-order",
              order > INT64_MAX ? INT64_MAX : (int64_t) order)))
      || orders_parse (orders, s))
    {
      settings_clear (s);
      return -1;
    }
  return 0;
}

static int
is_lap2 (const dpacct_accountant_type *type)
{
  return type == dpacct_accountant_lap2 || type == dpacct_accountant_lap2_paper;
}

static int
sampling_of (int code, dpacct_sampling *out)
{
  switch (code)
    {
    case 0: *out = DPACCT_SAMPLING_POISSON; return 0;
    case 1: *out = DPACCT_SAMPLING_WITHOUT_REPLACEMENT; return 0;
    case 2: *out = DPACCT_SAMPLING_NONE; return 0;
    default:
      PyErr_SetString (PyExc_ValueError, "unknown sampling scheme");
      return -1;
    }
}

/* ------------------------------------------------------------ bound */

/* One phase of a run: `steps` steps at noise (sigma, or the Laplace scale
 * b) and sampling rate q. */
typedef struct {
  double noise, q;
  uint64_t steps;
} phase;

/* Reads a Python sequence into a new array of *N items of SIZE bytes
 * (PyMem_Free it), each by CONVERT (nonzero on success, with an exception
 * set on failure); WHAT names the sequence in the TypeError.  The one
 * loop behind the phase lists and the batch-size lists. */
static int
sequence_parse (PyObject *object, const char *what, size_t size,
                int (*convert) (PyObject *item, void *out), void **out,
                Py_ssize_t *n)
{
  PyObject *seq = PySequence_Fast (object, what);
  if (seq == NULL)
    return -1;
  *n = PySequence_Fast_GET_SIZE (seq);
  char *items = PyMem_Calloc (*n > 0 ? (size_t) *n : 1, size);
  if (items == NULL)
    {
      Py_DECREF (seq);
      PyErr_NoMemory ();
      return -1;
    }
  for (Py_ssize_t i = 0; i < *n; i++)
    if (!convert (PySequence_Fast_GET_ITEM (seq, i), items + (size_t) i * size))
      {
        Py_DECREF (seq);
        PyMem_Free (items);
        return -1;
      }
  Py_DECREF (seq);
  *out = items;
  return 0;
}

/* One phase: (noise, sampling rate, steps). */
static int
to_phase (PyObject *item, void *out)
{
  phase *p = out;
  return PyArg_ParseTuple (item, "ddO&:phase", &p->noise, &p->q, to_count,
                           &p->steps);
}

static int
phases_parse (PyObject *list, phase **out, Py_ssize_t *n)
{
  void *items = NULL;
  int status = sequence_parse (list, "phases must be a sequence",
                               sizeof **out, to_phase, &items, n);
  *out = items;
  return status;
}

/* The event of one phase, as the command line builds it: a Gaussian
 * DP-SGD run, or Laplace noise of scale b on `dimension` coordinates of
 * sums clipped to CLIP (the library takes b / C). */
static int
phase_event (const settings *s, dpacct_sampling sampling, double clip,
             uint64_t dimension, const phase *p, dpacct_event **out)
{
  if (is_lap2 (s->type))
    return dpacct_lap2_event_alloc (p->noise / clip, dimension, p->q,
                                    p->steps, out);
  return dpacct_dpsgd_event_alloc (p->noise, p->q, p->steps, sampling, out);
}

/* The run's event: the one phase's event, or their sequence. */
static int
run_event (const settings *s, dpacct_sampling sampling, double clip,
           uint64_t dimension, const phase *phases, size_t n,
           dpacct_event **out)
{
  if (n == 1)
    return phase_event (s, sampling, clip, dimension, &phases[0], out);
  dpacct_event **events = calloc (n > 0 ? n : 1, sizeof *events);
  if (events == NULL)
    return DPACCT_ENOMEM;
  int status = DPACCT_OK;
  for (size_t i = 0; i < n && status == DPACCT_OK; i++)
    status = phase_event (s, sampling, clip, dimension, &phases[i],
                          &events[i]);
  if (status == DPACCT_OK)
    status = dpacct_event_sequence_alloc ((const dpacct_event *const *)
                                          events, n, out);
  for (size_t i = 0; i < n; i++)
    dpacct_event_free (events[i]);
  free (events);
  return status;
}

/* The lower end that the command line adds to a without-replacement run
 * (the +1/-1 pair's PLD, dpacct/sampler.h): extra, so a failure to get it
 * leaves the answer as it was, but one above the upper end is a numerical
 * failure. */
static int
without_replacement_lower (const settings *s, const phase *p, int query,
                           double value, dpacct_bound *bound)
{
  double lower;
  if (dpacct_without_replacement_lower (p->noise, p->q, p->steps, query == 1,
                                        value, &s->options, &lower)
          != DPACCT_OK
      || isnan (lower))
    return DPACCT_OK;
  if (lower - bound->upper > 1e-9 * fabs (bound->upper))
    return DPACCT_ENUMERIC;
  bound->lower = fmin (lower, bound->upper);
  return DPACCT_OK;
}

/* Accounts the run and asks for epsilon (query 0, at delta VALUE) or delta
 * (query 1, at epsilon VALUE). */
static int
account (const settings *s, dpacct_sampling sampling, double clip,
         uint64_t dimension, const phase *phases, size_t n, int query,
         double value, dpacct_bound *bound)
{
  dpacct_event *event = NULL;
  dpacct_accountant *accountant = NULL;
  int status = run_event (s, sampling, clip, dimension, phases, n, &event);
  if (status == DPACCT_OK)
    status = dpacct_accountant_alloc (s->type, &s->options, &accountant);
  if (status == DPACCT_OK)
    status = dpacct_accountant_compose (accountant, event, 1);
  if (status == DPACCT_OK)
    status = query == 0 ? dpacct_accountant_epsilon (accountant, value, bound)
                        : dpacct_accountant_delta (accountant, value, bound);
  dpacct_accountant_free (accountant);
  dpacct_event_free (event);
  if (status == DPACCT_OK && isnan (bound->upper))
    status = DPACCT_ENUMERIC;
  if (status == DPACCT_OK && sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT
      && n == 1 && !is_lap2 (s->type) && isnan (bound->lower))
    status = without_replacement_lower (s, &phases[0], query, value, bound);
  return status;
}

PyDoc_STRVAR (bound_doc,
"bound(query, value, settings, sampling, phases, clip, dimension)\n"
"--\n\n"
"Accounts the phases [(noise, sample_rate, steps), ...] and returns\n"
"(lower, upper, certified, order, order_at_edge) of epsilon at delta\n"
"VALUE (query 0) or of delta at epsilon VALUE (query 1).");

static PyObject *
core_bound (PyObject *self, PyObject *args)
{
  (void) self;
  int query, sampling_code;
  double value, clip;
  uint64_t dimension;
  PyObject *settings_tuple, *phase_list;
  if (!PyArg_ParseTuple (args, "idOiOdO&:bound", &query, &value,
                         &settings_tuple, &sampling_code, &phase_list, &clip,
                         to_count, &dimension))
    return NULL;
  dpacct_sampling sampling;
  settings s;
  phase *phases;
  Py_ssize_t n;
  if (sampling_of (sampling_code, &sampling))
    return NULL;
  if (settings_parse (settings_tuple, &s))
    return NULL;
  if (phases_parse (phase_list, &phases, &n))
    {
      settings_clear (&s);
      return NULL;
    }
  if (n < 1)
    {
      PyMem_Free (phases);
      settings_clear (&s);
      PyErr_SetString (PyExc_ValueError, "no steps to account");
      return NULL;
    }
  dpacct_bound b;
  int status;
  Py_BEGIN_ALLOW_THREADS
  forget_error ();
  status = account (&s, sampling, clip, dimension, phases, (size_t) n, query,
                    value, &b);
  Py_END_ALLOW_THREADS
  PyMem_Free (phases);
  settings_clear (&s);
  if (status != DPACCT_OK)
    return raise_status (status);
  return Py_BuildValue ("ddNdN", b.lower, b.upper,
                        PyBool_FromLong (b.certified), b.order,
                        PyBool_FromLong (b.order_at_edge));
}

/* ------------------------------------------------------------ calibrate */

PyDoc_STRVAR (calibrate_doc,
"calibrate(settings, sampling, q, steps, target_epsilon, delta, rel_tol,\n"
"          max_iter, clip, dimension)\n"
"--\n\n"
"The smallest noise (sigma; or the Laplace scale b with a lap2\n"
"accountant) whose epsilon upper bound is at most target_epsilon:\n"
"(noise, epsilon_upper, noise_below, evaluations).  rel_tol and\n"
"max_iter None keep the library's defaults.");

static PyObject *
core_calibrate (PyObject *self, PyObject *args)
{
  (void) self;
  PyObject *settings_tuple, *rel_tol, *max_iter;
  int sampling_code;
  double q, target, delta, clip;
  uint64_t steps, dimension, iterations = 0;
  if (!PyArg_ParseTuple (args, "OidO&ddOOdO&:calibrate", &settings_tuple,
                         &sampling_code, &q, to_count, &steps, &target,
                         &delta, &rel_tol, &max_iter, &clip, to_count,
                         &dimension))
    return NULL;
  dpacct_sampling sampling;
  dpacct_calibration_options options;
  dpacct_calibration_options_init (&options);
  if (sampling_of (sampling_code, &sampling)
      || optional_real (rel_tol, &options.rel_tol)
      || (max_iter != Py_None && !to_count (max_iter, &iterations)))
    return NULL;
  if (max_iter != Py_None)
    options.max_iter = iterations > UINT_MAX ? UINT_MAX : (unsigned) iterations;
  settings s;
  if (settings_parse (settings_tuple, &s))
    return NULL;
  dpacct_calibration c;
  int status;
  Py_BEGIN_ALLOW_THREADS
  forget_error ();
  status = is_lap2 (s.type)
               ? dpacct_lap2_scale_for_epsilon (s.type, &s.options, clip,
                                                dimension, q, steps, target,
                                                delta, &options, &c)
               : dpacct_noise_for_epsilon (s.type, &s.options, q, steps,
                                           sampling, target, delta, &options,
                                           &c);
  if (status == DPACCT_OK && (isnan (c.noise) || isnan (c.epsilon_upper)))
    status = DPACCT_ENUMERIC;
  Py_END_ALLOW_THREADS
  settings_clear (&s);
  if (status != DPACCT_OK)
    return raise_status (status);
  return Py_BuildValue ("dddI", c.noise, c.epsilon_upper, c.noise_below,
                        c.evaluations);
}

/* ------------------------------------------------------------ plan */

static PyObject *
row_tuple (const dpacct_plan_row *r)
{
  return Py_BuildValue ("KdKdddddddddN", (unsigned long long) r->batch_size,
                        r->sampling_rate, (unsigned long long) r->steps,
                        r->noise_multiplier, r->epsilon_upper,
                        r->cumulative_noise, r->per_step_noise,
                        r->per_step_noise_norm, r->effective_noise,
                        r->total_noise, r->gdp_mu, r->gdp_cumulative_noise,
                        PyBool_FromLong (r->on_plateau));
}

static PyObject *
plan_result (const dpacct_plan_row *rows, size_t n,
             const dpacct_plan_recommendation *rec)
{
  PyObject *list = PyList_New ((Py_ssize_t) n);
  if (list == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    {
      PyObject *row = row_tuple (&rows[i]);
      if (row == NULL)
        {
          Py_DECREF (list);
          return NULL;
        }
      PyList_SET_ITEM (list, (Py_ssize_t) i, row);
    }
  Py_ssize_t index = rec->row < n ? (Py_ssize_t) rec->row : -1;
  return Py_BuildValue ("N(KnsdKdKK)", list,
                        (unsigned long long) rec->batch_size, index,
                        rec->reason == DPACCT_PLAN_PLATEAU ? "plateau"
                                                           : "min-steps",
                        rec->min_cumulative_noise,
                        (unsigned long long) rec->min_batch_size,
                        rec->plateau_bound,
                        (unsigned long long) rec->per_step_choice,
                        (unsigned long long) rec->effective_noise_choice);
}

static int
batch_sizes_parse (PyObject *object, uint64_t **out, Py_ssize_t *n)
{
  void *items = NULL;
  int status = sequence_parse (object, "batch_sizes must be a sequence",
                               sizeof **out, to_count, &items, n);
  *out = items;
  return status;
}

PyDoc_STRVAR (plan_doc,
"plan(settings, sampling, epsilon, delta, dataset_size, epochs,\n"
"     batch_sizes, rel_tol, plateau_tolerance, min_steps, dimension)\n"
"--\n\n"
"The cumulative-noise plan for clip 1: (rows, recommendation), rows as\n"
"tuples in the order of dpacct_plan_row, the recommendation as\n"
"(batch_size, row or -1, reason, min_cumulative_noise, min_batch_size,\n"
"plateau_bound, per_step_choice, effective_noise_choice).");

static PyObject *
core_plan (PyObject *self, PyObject *args)
{
  (void) self;
  PyObject *settings_tuple, *batch_list, *rel_tol, *tau, *min_steps;
  int sampling_code;
  dpacct_plan_options p;
  dpacct_plan_options_init (&p);
  if (!PyArg_ParseTuple (args, "OiddO&dOOOOO&:plan", &settings_tuple,
                         &sampling_code, &p.epsilon, &p.delta, to_count,
                         &p.dataset_size, &p.epochs, &batch_list, &rel_tol,
                         &tau, &min_steps, to_count, &p.dimension))
    return NULL;
  if (sampling_of (sampling_code, &p.sampling)
      || optional_real (rel_tol, &p.calibration.rel_tol)
      || optional_real (tau, &p.plateau_tolerance)
      || (min_steps != Py_None && !to_count (min_steps, &p.min_steps)))
    return NULL;
  settings s;
  uint64_t *batch_sizes;
  Py_ssize_t n_batch;
  if (settings_parse (settings_tuple, &s))
    return NULL;
  if (batch_sizes_parse (batch_list, &batch_sizes, &n_batch))
    {
      settings_clear (&s);
      return NULL;
    }
  p.accountant = s.type;
  p.accountant_options = s.options;
  dpacct_plan_row *rows = PyMem_Calloc ((size_t) n_batch + 1, sizeof *rows);
  if (rows == NULL)
    {
      PyMem_Free (batch_sizes);
      settings_clear (&s);
      return PyErr_NoMemory ();
    }
  size_t n_rows = 0;
  dpacct_plan_recommendation rec;
  int status;
  Py_BEGIN_ALLOW_THREADS
  forget_error ();
  status = dpacct_plan_compute (&p, batch_sizes, (size_t) n_batch, rows,
                                &n_rows, &rec);
  Py_END_ALLOW_THREADS
  PyObject *result = status == DPACCT_OK ? plan_result (rows, n_rows, &rec)
                                         : raise_status (status);
  PyMem_Free (rows);
  PyMem_Free (batch_sizes);
  settings_clear (&s);
  return result;
}

/* ------------------------------------------------------------ helpers */

PyDoc_STRVAR (dpsgd_steps_doc,
"dpsgd_steps(dataset_size, batch_size, epochs)\n"
"--\n\n"
"(q, steps) of a run: q = B / N, steps = ceil(epochs * N / B).");

static PyObject *
core_dpsgd_steps (PyObject *self, PyObject *args)
{
  (void) self;
  uint64_t dataset_size, batch_size, steps;
  double epochs, q;
  if (!PyArg_ParseTuple (args, "O&O&d:dpsgd_steps", to_count, &dataset_size,
                         to_count, &batch_size, &epochs))
    return NULL;
  forget_error ();
  int status = dpacct_dpsgd_steps (dataset_size, batch_size, epochs, &q,
                                   &steps);
  if (status != DPACCT_OK)
    return raise_status (status);
  return Py_BuildValue ("dK", q, (unsigned long long) steps);
}

PyDoc_STRVAR (batch_grid_doc,
"batch_grid(first, last)\n"
"--\n\n"
"The geometric grid first, 2 first, 4 first, ..., last.");

static PyObject *
core_batch_grid (PyObject *self, PyObject *args)
{
  (void) self;
  uint64_t first, last, grid[128];
  size_t n;
  if (!PyArg_ParseTuple (args, "O&O&:batch_grid", to_count, &first, to_count,
                         &last))
    return NULL;
  forget_error ();
  int status = dpacct_plan_batch_grid (first, last, grid, 128, &n);
  if (status != DPACCT_OK)
    return raise_status (status);
  PyObject *list = PyList_New ((Py_ssize_t) n);
  for (size_t i = 0; list != NULL && i < n; i++)
    {
      PyObject *b = PyLong_FromUnsignedLongLong (grid[i]);
      if (b == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, (Py_ssize_t) i, b);
    }
  return list;
}

PyDoc_STRVAR (check_step_doc,
"check_step(noise_multiplier, sample_rate)\n"
"--\n\n"
"Raises ValueError (with the library's message) unless one Poisson-\n"
"sampled Gaussian step with these parameters is a valid event.");

static PyObject *
core_check_step (PyObject *self, PyObject *args)
{
  (void) self;
  double sigma, q;
  if (!PyArg_ParseTuple (args, "dd:check_step", &sigma, &q))
    return NULL;
  dpacct_event *event = NULL;
  forget_error ();
  int status = dpacct_dpsgd_event_alloc (sigma, q, 1, DPACCT_SAMPLING_POISSON,
                                         &event);
  dpacct_event_free (event);
  if (status != DPACCT_OK)
    return raise_status (status);
  Py_RETURN_NONE;
}

/* ------------------------------------------------------------ module */

static PyMethodDef core_methods[] = {
  { "bound", core_bound, METH_VARARGS, bound_doc },
  { "calibrate", core_calibrate, METH_VARARGS, calibrate_doc },
  { "plan", core_plan, METH_VARARGS, plan_doc },
  { "dpsgd_steps", core_dpsgd_steps, METH_VARARGS, dpsgd_steps_doc },
  { "batch_grid", core_batch_grid, METH_VARARGS, batch_grid_doc },
  { "check_step", core_check_step, METH_VARARGS, check_step_doc },
  { NULL, NULL, 0, NULL }
};

static struct PyModuleDef core_module = {
  PyModuleDef_HEAD_INIT, "dpacct._core",
  "The C half of dpacct: thin calls into libdpacct (see help(dpacct)).",
  -1, core_methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__core (void);

PyMODINIT_FUNC
PyInit__core (void)
{
  PyObject *module = PyModule_Create (&core_module);
  if (module == NULL)
    return NULL;
  /* The library's messages go to each calling thread's buffer. */
  dpacct_set_error_handler (remember_error);
  if (PyModule_AddIntConstant (module, "MAX_COUNT",
                               (long) DPACCT_MAX_COUNT) < 0)
    {
      Py_DECREF (module);
      return NULL;
    }
  return module;
}
