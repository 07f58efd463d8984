/* snn_api.h: the boundary between a generated model and its callers.
 *
 * The generated binary's main() and Python (cffi reads this very file with
 * ffi.cdef, so it holds only declarations cffi can parse: no #include, no
 * macros) drive a simulation through these functions alone. A simulation is
 * a value: several can live in one process, each with all of its state.
 */

typedef struct snn_sim snn_sim;

/* One result array, as written to RESULTS/<file>. */
typedef struct {
    const char *file;    /* "weights.values.npy" */
    const char *descr;   /* numpy dtype: "<f8", "<i4", ... */
    int ndim;
    size_t shape[2];
    const void *data;    /* owned by the simulation */
} snn_result_array;

snn_sim *snn_sim_new(void);
void snn_sim_free(snn_sim *sim);
const char *snn_sim_error(const snn_sim *sim);

/* Before running: a parameter from text with a unit ("20 Hz"), a data path, the seed. 0 ok, -1 error. */
int snn_sim_set_param(snn_sim *sim, const char *name, const char *value);
int snn_sim_set_data(snn_sim *sim, const char *name, const char *path);
void snn_sim_set_seed(snn_sim *sim, uint64_t seed);
void snn_sim_set_quiet(snn_sim *sim, int quiet);
/* How many threads the time step runs on: 1 (the default), up to 256, or 0
 * for every core. The results are the same for any number. -1 (see
 * snn_sim_error) for a number out of range, or more than one thread in a
 * build without OpenMP. */
int snn_sim_set_threads(snn_sim *sim, int threads);
/* The number of threads it runs on. */
int snn_sim_threads(const snn_sim *sim);
/* For tests: the least work (elements, or synapses a step's spikes reach)
 * that a loop shares among threads; smaller loops run on one. */
void snn_sim_set_parallel_min(snn_sim *sim, int64_t n);

/* Initialise and run the whole protocol (the phases not run yet, once). 0 ok,
 * -1 error (see snn_sim_error). */
int snn_sim_run(snn_sim *sim);
/* Phase k of the protocol alone: the next one not run yet (phases run once,
 * in the protocol's order). */
int snn_sim_run_phase(snn_sim *sim, int k);

/* Step by step instead of the protocol: initialise (groups, connectivity,
 * init code; done once, implied by the others), then advance the clock by a
 * duration in seconds, with Brian2's rounding to whole steps. */
int snn_sim_setup(snn_sim *sim);
int snn_sim_advance(snn_sim *sim, double duration);

/* Snapshots of the whole state (clock, random streams, variables, spikes,
 * connectivity): a simulation loaded from one continues exactly as the one
 * that saved it would have. Only for the model that wrote it. */
int snn_sim_save_state(snn_sim *sim, const char *path);
int snn_sim_load_state(snn_sim *sim, const char *path);

/* Ask a running simulation to stop at the end of the current step (safe to
 * call from a signal handler or another thread); then whether it did. */
void snn_sim_request_stop(snn_sim *sim);
int snn_sim_interrupted(const snn_sim *sim);

/* What a simulation is doing, safe to call from another thread while it
 * runs: `what` the phase ("train"), "advance", or a setup step ("connecting
 * S"); `t` the simulated time, [t_from, t_to] the current run; `done` the
 * fraction of that run (or setup step) done; `wall` seconds since setup or
 * the run began, `run_wall` since the current run or setup step did. */
typedef struct {
    char what[80];
    double t, t_from, t_to, done, wall, run_wall;
} snn_sim_progress_info;
void snn_sim_progress(const snn_sim *sim, snn_sim_progress_info *out);

/* The model's name, for messages. */
const char *snn_model_name(void);

/* Every group variable ("G.v"; a shared one has ndim 0), set up if not yet:
 * its storage, which the caller may read and write between runs (never while
 * one runs). */
size_t snn_sim_n_vars(const snn_sim *sim);
int snn_sim_var(snn_sim *sim, size_t k, snn_result_array *out);

/* After running: the manifest (JSON, format snndsl-results/1) and the arrays it names. */
const char *snn_sim_manifest(snn_sim *sim);
size_t snn_sim_n_arrays(const snn_sim *sim);
int snn_sim_array(snn_sim *sim, size_t k, snn_result_array *out);
int snn_sim_write_results(snn_sim *sim, const char *dir);
