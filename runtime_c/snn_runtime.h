//! snn_runtime.h - the hand-written C runtime of snndsl.
//!
//! snndsl compiles a `.snn` model into one C file (model.c) that includes this
//! header and is compiled together with snn_runtime.c:
//!
//!     cc -O2 -std=c11 -Wall -Wextra -fPIC model.c snn_runtime.c -lm
//!
//! The runtime holds only what every model needs and nothing model-specific:
//! a seedable RNG with one stream per purpose, growable buffers, a string
//! builder for JSON, .npy/.npz reading and .npy writing, the results directory
//! (arrays first, then an atomically renamed manifest.json), physical
//! quantities for `--set NAME=VALUE`, the command line and progress on stderr.
//!
//! Rules: C standard library + libm (+ POSIX inside snn_runtime.c only), no
//! global or static mutable state (several simulations may share a process),
//! every public name starts with `snn_`. Functions that can fail return 0 on
//! success and -1 on error, with a one-line message in `err` (errlen bytes).
#ifndef SNN_RUNTIME_H
#define SNN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdatomic.h>

#ifdef __GNUC__
#define SNN_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SNN_PRINTF_LIKE(fmt, args)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * RNG: xoshiro256** (Blackman & Vigna), seeded through splitmix64.
 * One generator per purpose (connectivity, initial values, Poisson input...),
 * each seeded with the run's seed and its own stream number, so adding a
 * random draw in one place never shifts the numbers drawn in another.
 * ------------------------------------------------------------------------- */

typedef struct { uint64_t s[4]; } snn_rng;

//! Seeds `r` deterministically from (seed, stream); distinct streams of one
//! seed start from distinct, unrelated states.
void snn_rng_seed(snn_rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t snn_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

//! Next 64 random bits (xoshiro256**).
static inline uint64_t snn_rng_next(snn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = snn_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = snn_rotl64(s[3], 45);
    return result;
}

//! Uniform double in [0, 1) with 53 random bits.
static inline double snn_rng_uniform(snn_rng *r)
{
    return (double)(snn_rng_next(r) >> 11) * 0x1.0p-53;
}

//! Standard normal deviate (Marsaglia polar method; the second deviate is
//! discarded, so all state lives in `r`).
double snn_rng_normal(snn_rng *r);

/* ---------------------------------------------------------------------------
 * Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror & Shaw,
 * SC'11), the time step's generator. A draw is a function of (seed, site,
 * step, element) and of how many the element drew before in that code: not of
 * which thread or rank computes the element, nor of which other elements
 * exist. `snn_ctr_at` keys a generator for one element of one piece of code
 * (`site`: passes/streams.py's stream number times 4, plus a part) in one
 * step; each call of Philox gives two uniform numbers.
 *
 *   key = the seed (64 bits); counter words:
 *   c0 = call (24 bits) | element >> 32 (8 bits) << 24,   c1 = element & 0xffffffff,
 *   c2 = step & 0xffffffff,   c3 = step >> 32 (16 bits) | site << 16.
 * So elements below 2^40, steps below 2^48, sites below 2^16, and 2^24 calls
 * per element and step (a rejection loop never comes near) never meet.
 * ------------------------------------------------------------------------- */

typedef struct {
    uint32_t key[2];
    uint32_t ctr[4];
    uint32_t out[4];  /* the last call's 128 bits (out[2], out[3] kept) */
    int spare;        /* 1: out[2], out[3] are the next uniform number */
} snn_ctr;

//! Philox4x32 with 10 rounds: `c` becomes the random image of (c, key).
//! Written out round by round, in locals: a loop over the rounds through the
//! array ran three times slower (34 ns a call against 10 on this machine).
#define SNN_PHILOX_ROUND(k0, k1)                                                      \
    do {                                                                              \
        const uint64_t p0_ = (uint64_t)0xD2511F53u * c0, p1_ = (uint64_t)0xCD9E8D57u * c2; \
        const uint32_t n0_ = (uint32_t)(p1_ >> 32) ^ c1 ^ (k0);                       \
        const uint32_t n2_ = (uint32_t)(p0_ >> 32) ^ c3 ^ (k1);                       \
        c1 = (uint32_t)p1_;                                                           \
        c3 = (uint32_t)p0_;                                                           \
        c0 = n0_;                                                                     \
        c2 = n2_;                                                                     \
    } while (0)

static inline void snn_philox4x32(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    uint32_t c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    const uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;  /* the key's increments per round */
    SNN_PHILOX_ROUND(k0, k1);
    SNN_PHILOX_ROUND(k0 + w0, k1 + w1);
    SNN_PHILOX_ROUND(k0 + 2 * w0, k1 + 2 * w1);
    SNN_PHILOX_ROUND(k0 + 3 * w0, k1 + 3 * w1);
    SNN_PHILOX_ROUND(k0 + 4 * w0, k1 + 4 * w1);
    SNN_PHILOX_ROUND(k0 + 5 * w0, k1 + 5 * w1);
    SNN_PHILOX_ROUND(k0 + 6 * w0, k1 + 6 * w1);
    SNN_PHILOX_ROUND(k0 + 7 * w0, k1 + 7 * w1);
    SNN_PHILOX_ROUND(k0 + 8 * w0, k1 + 8 * w1);
    SNN_PHILOX_ROUND(k0 + 9 * w0, k1 + 9 * w1);
    c[0] = c0;
    c[1] = c1;
    c[2] = c2;
    c[3] = c3;
}

//! The generator of `element` in the code `site` at step `step` (see above).
static inline void snn_ctr_at(snn_ctr *r, uint64_t seed, uint32_t site, int64_t step, int64_t element)
{
    const uint64_t e = (uint64_t)element, t = (uint64_t)step;
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->ctr[0] = (uint32_t)((e >> 32) & 0xFFu) << 24;
    r->ctr[1] = (uint32_t)e;
    r->ctr[2] = (uint32_t)t;
    r->ctr[3] = (uint32_t)((t >> 32) & 0xFFFFu) | site << 16;
    r->spare = 0;
}

//! The next 64 random bits: the first 64 bits of a call of Philox, then the
//! second 64.
static inline uint64_t snn_ctr_bits(snn_ctr *r)
{
    uint64_t bits;
    if (r->spare) {
        bits = (uint64_t)r->out[2] << 32 | r->out[3];
        r->spare = 0;
    } else {
        uint32_t c[4] = {r->ctr[0], r->ctr[1], r->ctr[2], r->ctr[3]};
        snn_philox4x32(c, r->key[0], r->key[1]);
        r->ctr[0]++;
        r->out[2] = c[2];
        r->out[3] = c[3];
        bits = (uint64_t)c[0] << 32 | c[1];
        r->spare = 1;
    }
    return bits;
}

//! Uniform double in [0, 1) with 53 random bits.
static inline double snn_ctr_uniform(snn_ctr *r)
{
    return (double)(snn_ctr_bits(r) >> 11) * 0x1.0p-53;
}

//! Standard normal deviate by the ziggurat (Marsaglia & Tsang 2000; 256
//! layers, 52-bit magnitudes, as numpy's): 64 random bits give the layer, the
//! sign and the magnitude, accepted at once 99 % of the time, with no
//! logarithm; the rest (the wedges and the tail) in snn_ctr_normal_slow.
//! Tables: snndsl/reference/ziggurat.py. A noisy group draws one per neuron
//! and step: the polar method took 37 ns here, this 12.
extern const uint64_t snn_zig_ki[256];
extern const double snn_zig_wi[256], snn_zig_fi[256];
double snn_ctr_normal_slow(snn_ctr *r, uint64_t bits);

static inline double snn_ctr_normal(snn_ctr *r)
{
    const uint64_t bits = snn_ctr_bits(r);
    const unsigned layer = (unsigned)(bits & 0xFFu);
    const uint64_t rabs = (bits >> 9) & 0x000FFFFFFFFFFFFFu;
    if (rabs < snn_zig_ki[layer]) {
        const double x = (double)rabs * snn_zig_wi[layer];
        return (bits >> 8) & 1u ? -x : x;
    }
    return snn_ctr_normal_slow(r, bits);
}

//! Binomial(n, p) deviates, exact, for many draws with one (n, p): set up
//! once by snn_binomial_prepare (0 <= p <= 1), drawn by snn_binomial_draw.
//! With P = min(p, 1 - p): inversion (numpy's and Brian2's) when n P < 10,
//! else Hoermann's BTRS transformed rejection (1993), O(1) per draw.
typedef struct {
    int64_t n;
    int flip;       /* p > 1/2: draw Binomial(n, 1 - p) and return n - k */
    int rejection;  /* BTRS, else inversion */
    double P, q, qn, bound;                   /* inversion */
    double a, b, c, vr, alpha, r, m, h;       /* BTRS */
} snn_binomial_t;
void snn_binomial_prepare(snn_binomial_t *b, int64_t n, double p);
int64_t snn_binomial_draw(const snn_binomial_t *b, snn_rng *r);
int64_t snn_binomial_draw_ctr(const snn_binomial_t *b, snn_ctr *r);

/* ---------------------------------------------------------------------------
 * Zeroed arrays
 * ------------------------------------------------------------------------- */

//! calloc(max(n, 1), size), with 2 MiB pages asked for when the block is
//! large (Linux); free() it as usual. NULL when out of memory.
void *snn_zalloc(int64_t n, size_t size);

/* ---------------------------------------------------------------------------
 * Growable typed buffer (capacity doubles, so appends are amortised O(1)).
 * ------------------------------------------------------------------------- */

typedef struct { void *data; size_t len, cap, elsize; } snn_buf;

void snn_buf_init(snn_buf *b, size_t elsize);
//! Ensures cap >= len + n_more. 0 ok, -1 out of memory (buffer unchanged).
int snn_buf_reserve(snn_buf *b, size_t n_more);
//! Appends one element of elsize bytes. 0 ok, -1 out of memory.
int snn_buf_push(snn_buf *b, const void *elem);
void snn_buf_free(snn_buf *b);

//! Brian2's sample(n, size=k): k distinct numbers of 0 .. n - 1, uniformly at
//! random, into `chosen` (int64_t, k of them), in increasing order. Floyd's
//! algorithm: exactly k uniform draws from `rng` (for t = n - k .. n - 1, r =
//! floor(u (t + 1)); r, or t where r was chosen already), a hash set in `table`
//! (int64_t) to find repeats; both buffers are reused from call to call.
//! 0 <= k <= n; -1 if out of memory.
int snn_choose(snn_rng *rng, int64_t n, int64_t k, snn_buf *chosen, snn_buf *table);

//! Address of element i (no bounds check).
static inline void *snn_buf_at(const snn_buf *b, size_t i)
{
    return (char *)b->data + i * b->elsize;
}

/* ---------------------------------------------------------------------------
 * Calendar of next spikes (Poisson sources that draw the step of their next
 * spike): each source is filed in slot (step mod nslots) of the step of its
 * next spike, so a step visits the sources due then (and the few filed for
 * later laps of the calendar), not all N.
 * ------------------------------------------------------------------------- */

typedef struct { snn_buf *slot; int64_t nslots; } snn_calendar;

//! Files anew each source i of n whose next[i] >= now (a zeroed calendar's
//! slots are allocated on first use: a power of two >= n, at most 2**20).
int snn_calendar_build(snn_calendar *c, int64_t n, const int64_t *next, int64_t now, char *err, size_t errlen);
//! Files source i under `step` (one past SNN_MAX_STEPS: never due).
int snn_calendar_add(snn_calendar *c, int32_t i, int64_t step, char *err, size_t errlen);
//! The sources whose next[i] == step, in ascending order, into `out` (room
//! for all n), taken out of the calendar; returns how many.
int64_t snn_calendar_due(snn_calendar *c, int64_t step, const int64_t *next, int32_t *out);
void snn_calendar_free(snn_calendar *c);

/* ---------------------------------------------------------------------------
 * String builder. Appends never fail loudly: on out-of-memory `failed` is
 * set and further appends are ignored, so callers check once at the end.
 * ------------------------------------------------------------------------- */

typedef struct { char *s; size_t len, cap; int failed; } snn_sb;

void snn_sb_init(snn_sb *b);
//! printf-style append.
void snn_sb_printf(snn_sb *b, const char *fmt, ...) SNN_PRINTF_LIKE(2, 3);
//! Appends `s` as a JSON string literal (quotes included); NULL gives null.
void snn_sb_json_string(snn_sb *b, const char *s);
//! Appends the shortest decimal that reads back as `x`; NaN and inf as null.
void snn_sb_json_double(snn_sb *b, double x);
void snn_sb_free(snn_sb *b);

//! The text built so far ("" before the first append).
static inline const char *snn_sb_cstr(const snn_sb *b) { return b->s ? b->s : ""; }

/* ---------------------------------------------------------------------------
 * .npy arrays. Reading converts any numeric dtype to double, C order.
 * ------------------------------------------------------------------------- */

typedef struct { double *data; int ndim; size_t shape[8]; size_t size; } snn_array;

//! Writes a C-order array as .npy (format 1.0). `descr` is a numpy type
//! string ("<f8", "<f4", "<i4", "<i8", "|b1", "|u1", ...) describing the
//! bytes of `data` as they are in memory.
int snn_npy_write(const char *path, const char *descr, int ndim, const size_t *shape,
                  const void *data, char *err, size_t errlen);
//! Opens `path` for reading ("rb") only if it is a regular file (a FIFO or a
//! device would block or never end); NULL with errno EINVAL for anything else.
FILE *snn_open_regular(const char *path);
//! Reads "path.npy" or one array "path.npz:key" of an np.savez archive
//! (an archive with a single array may omit ":key").
int snn_npy_read(const char *spec, snn_array *out, char *err, size_t errlen);
void snn_array_free(snn_array *a);

/* ---------------------------------------------------------------------------
 * Results directory. Only a folder that is absent, empty or written by
 * snndsl (its mark .snndsl-results, or a manifest of format
 * snndsl-results/1) is written; any other, the root and the home folder are
 * refused untouched. The stale manifest.json is removed first, each file is
 * written as a new temporary in the folder and renamed into place (a
 * symlink there is replaced, never followed), the new manifest appears last,
 * and the arrays of the previous write that the new one does not name are
 * removed. A crashed run never leaves a manifest that describes missing
 * arrays.
 * ------------------------------------------------------------------------- */

typedef struct {
    const char *file;   //!< plain file name inside the directory, e.g. "v.values.npy"
    const char *descr;  //!< numpy type string of `data`, or "raw": shape[0] bytes written as they are
    int ndim;           //!< 0, 1 or 2
    size_t shape[2];
    const void *data;
} snn_out_array;

int snn_results_write(const char *dir, const char *manifest_json, const snn_out_array *arrays,
                      size_t n, char *err, size_t errlen);
//! Creates `path` and its parents (mkdir -p).
int snn_mkdirs(const char *path, char *err, size_t errlen);

/* ---------------------------------------------------------------------------
 * Physical quantities: "-65 mV", "20Hz", "1e-3 siemens/metre**2", "10*ms".
 * Dimensions are exponents of (metre, kilogram, second, amp, kelvin, mole,
 * candela); values are in SI base units.
 * ------------------------------------------------------------------------- */

int snn_parse_quantity(const char *text, double *value, int dim[7], char *err, size_t errlen);
//! "volt", "hertz", "1", or a product such as "metre**2*kilogram/second**3".
void snn_dim_format(const int dim[7], char *buf, size_t len);

//! Dimensions with fractional powers (a parameter in volt/second**0.5): each
//! exponent in units of 1/SNN_DIM_DEN, the least common multiple of 1 .. 12
//! (the language's powers are whole or fractions with denominators up to 12).
#define SNN_DIM_DEN 27720
//! snn_parse_quantity reading powers such as `**0.5`, `**-1.5`, `**(1/3)` too,
//! the dimension in units of 1/SNN_DIM_DEN.
int snn_parse_quantity_frac(const char *text, double *value, int dim[7], char *err, size_t errlen);
//! snn_dim_format of such a dimension: "metre**(1/3)", "kilogram*metre**2/(amp*second**3.5)".
void snn_dim_format_frac(const int dim[7], char *buf, size_t len);

/* ---------------------------------------------------------------------------
 * Networks: spike generators and connectivity (the same in every model).
 * `site` is the .snn place messages start with ("model.snn:3:1").
 * ------------------------------------------------------------------------- */

//! A spike generator's n_idx events (neuron idx[k] at times[k] seconds, of a
//! group of n neurons) sorted by (time, index) and binned into steps of dt as
//! Brian2's SpikeGeneratorGroup: step = int((t + 1e-3 dt) / dt). Out: the
//! count, each event's neuron and step (malloc'ed). Refused: lengths that
//! differ, an index that is not an integer in [0, n), a negative time, a
//! neuron twice in one step.
int snn_spikegen_sort(int64_t n, const double *idx, int64_t n_idx, const double *times, int64_t n_times,
                      double dt, const char *name, const char *site,
                      int64_t *nsrc, int32_t **src_i, int64_t **src_step, char *err, size_t errlen);

//! Whether data `a` holds pairs to connect: shape (n, 2), rows of whole (i, j)
//! with i in [0, n_pre) and j in [0, n_post); -1 (the reason in err) if not.
int snn_check_pairs(const snn_array *a, int64_t n_pre, int64_t n_post, const char *name, const char *site,
                    char *err, size_t errlen);
//! Synapses from data `a` of shape (n, 2), rows of (i, j) with i in
//! [0, n_pre) and j in [0, n_post), numbered in the array's order.
int snn_connect_pairs(const snn_array *a, int64_t n_pre, int64_t n_post, const char *name, const char *site,
                      int64_t *nsyn, int32_t **pre, int32_t **post, char *err, size_t errlen);

//! The most synapses one group holds: their numbers are int32, as Brian2's.
#define SNN_MAX_SYNAPSES INT64_C(2147483647)

//! Whether every elapsed time t - clock[j], j in [lo, hi), is a whole number of
//! steps within the decay tables (SNN_DECAY_STEPS, snn_support.h): where snn_decay
//! would read the table, so that snn_decay_tabulated gives the same factors.
int snn_decays_tabulated(const double *clock, int64_t lo, int64_t hi, double t, double inv_dt);

//! For each presynaptic neuron the list of its synapses, in synapse order
//! (CSR: pre_start[n_pre + 1], pre_syn[nsyn]), and beside each the neuron at
//! the synapse's other end (pre_other), so a pathway reads it sequentially;
//! the same for postsynaptic neurons. Arrays malloc'ed. pre_syn and pre_other
//! NULL: the synapses are numbered in presynaptic order (pre ascending; an
//! error if not), so neuron i's are pre_start[i] .. pre_start[i + 1] and
//! their postsynaptic neurons post[] there: only pre_start is built. post_syn
//! and post_other NULL: only post_start (all pairs, whose synapses the caller
//! computes). More than SNN_MAX_SYNAPSES synapses is an error.
int snn_index_synapses(int64_t nsyn, const int32_t *pre, const int32_t *post, int64_t n_pre, int64_t n_post,
                       int64_t **pre_start, int32_t **pre_syn, int32_t **pre_other,
                       int64_t **post_start, int32_t **post_syn, int32_t **post_other, char *err, size_t errlen);

//! Each element's row of CSR offsets start[0 .. n]: r, start[r + 1] - start[r]
//! times, for r = 0 .. n - 1; start[n] values in a new array (malloc'ed, at
//! least one element; NULL without memory). The presynaptic neuron of each
//! synapse numbered in presynaptic order.
int32_t *snn_rows_expand(const int64_t *start, int64_t n);

//! 1 if other[start[k] .. start[k + 1]) is ascending (not strictly) for every k < n, else 0.
int64_t snn_rows_ascending(const int64_t *start, const int32_t *other, int64_t n);

/* ---------------------------------------------------------------------------
 * Exact integration of linear systems x' = M x + c over one step dt:
 * x(t + dt) = E x + F c, E = expm(M dt), F = integral over [0, dt] of
 * expm(M s) ds. Eref/Fref: the same with the rows flagged in `frozen`
 * zeroed (variables held while a neuron is refractory). n x n row-major.
 * Scaling and squaring of the augmented matrix [[M, I], [0, 0]] dt with a
 * Taylor series. 0 ok, -1 if a factor is not finite.
 * ------------------------------------------------------------------------- */

int snn_exact_factors(int n, const double *M, const int *frozen, double dt,
                      double *E, double *F, double *Eref, double *Fref);

//! E and F of the system with the rows flagged in `frozen` held (NULL: none),
//! for factors made in each step (coefficients that change during a run).
int snn_exact_step(int n, const double *M, const int *frozen, double dt, double *E, double *F);

//! The same for a diagonal M (uncoupled variables; only M's diagonal is read):
//! E_rr = exp(a dt), F_rr = expm1(a dt) / a (dt where a = 0), the closed form
//! Brian2 integrates; a held row keeps its value (E_rr = 1, F_rr = 0). The
//! entries off the diagonal are 0. 0 ok, -1 if a factor is not finite.
int snn_exact_diagonal(int n, const double *M, const int *frozen, double dt, double *E, double *F);

/* ---------------------------------------------------------------------------
 * Command line of the generated binary:
 *   [-o|--output DIR] [--set NAME=VALUE]... [--data NAME=PATH]... [--seed N]
 *   [--threads N] [-q|--quiet] [-h|--help]   (long options also accept --opt=VALUE)
 * ------------------------------------------------------------------------- */

typedef struct { const char *name; const char *value; } snn_kv;

//! The most threads a simulation runs on (--threads, snn_sim_set_threads).
#define SNN_MAX_THREADS 256

typedef struct {
    const char *out_dir;           //!< -o DIR / --output DIR, default "results"
    int has_seed; uint64_t seed;   //!< --seed N
    int threads;                   //!< --threads N (default 1; 0: every core)
    int quiet;                     //!< -q / --quiet
    int help;                      //!< -h / --help (parsing stops there)
    snn_kv sets[64];  size_t n_sets;   //!< --set NAME=VALUE, in order given
    snn_kv datas[64]; size_t n_datas;  //!< --data NAME=PATH, in order given
} snn_cli;

//! Parses argv[1..argc-1]. All pointers point into argv: a NAME=VALUE
//! argument is split in place (its '=' is overwritten with '\0').
int snn_cli_parse(int argc, char **argv, snn_cli *out, char *err, size_t errlen);

/* ---------------------------------------------------------------------------
 * Wall clock and progress line on stderr.
 * ------------------------------------------------------------------------- */

//! Monotonic wall-clock seconds (arbitrary origin).
double snn_wall_time(void);

//! What a simulation is doing, and its progress line. The fields marked
//! shared are written by the simulation and may be read, through
//! snn_progress_read, by another thread while it runs (the Python API reports
//! progress that way, with the simulation quiet).
typedef struct {
    double last;           //!< wall time of the last print
    int quiet;
    int tty;               //!< stderr is a terminal: one line rewritten in place; else a plain line every 10 s
    int printed;           //!< length of the line printed in place, 0 if none
    int shown;             //!< a line was printed since snn_progress_start
    _Atomic double start;  //!< shared: wall time of snn_progress_start
    _Atomic double run_start;  //!< shared: wall time the current run (or setup step) began
    _Atomic(const char *) what;  //!< shared: the phase, or a setup step ("connecting S"); a static string
    _Atomic double t, t_from, t_to;  //!< shared: simulated time, and the current run's bounds
    _Atomic double done;   //!< shared: the fraction of the current run or setup step done
} snn_progress;

typedef struct {
    const char *what;
    double t, t_from, t_to, done;
    double wall, run_wall;  //!< seconds since snn_progress_start, since the current run began
} snn_progress_info;

void snn_progress_start(snn_progress *p, int quiet);
//! A run from t_from to t_to, in phase `phase` (a static string), now at t.
//! Cheap enough to call every step: prints only once the whole has lasted
//! more than 1 s, then at most every 0.5 s in a terminal, every 10 s
//! otherwise; the line says the fraction of the run done and the wall time
//! it should still take.
void snn_progress_update(snn_progress *p, const char *phase, double t, double t_from, double t_to);
//! Ends the progress line, if one was printed in place.
void snn_progress_finish(snn_progress *p);
//! Progress of a long setup step, e.g. "connecting S" (a static string) and
//! the fraction done in [0, 1]; the same pacing, the same `quiet`.
void snn_progress_fraction(snn_progress *p, const char *what, double done);
//! A copy of the shared fields, from any thread.
void snn_progress_read(const snn_progress *p, snn_progress_info *out);

/* ---------------------------------------------------------------------------
 * Snapshots: integrity and the checks a loader makes before it trusts one.
 * ------------------------------------------------------------------------- */

//! CRC-64/XZ (ECMA-182 polynomial, reflected, initial value and final xor all
//! ones) of n bytes: detects every error burst of up to 64 bits, so every
//! single-bit flip, with certainty; other damage with probability 1 - 2^-64.
uint64_t snn_crc64(const void *data, size_t n);

//! The first k < n with a[k] outside [lo, hi), or -1 if there is none.
int64_t snn_check_range_i32(const int32_t *a, int64_t n, int64_t lo, int64_t hi);
int64_t snn_check_range_i64(const int64_t *a, int64_t n, int64_t lo, int64_t hi);
//! CSR offsets start[0..n] rising from 0 to `total`: the first bad k, or -1.
int64_t snn_check_offsets(const int64_t *start, int64_t n, int64_t total);
//! Steps of a spike generator's events: non-decreasing, at most `most` events
//! in one step (the neurons of its group). The first bad k, or -1.
int64_t snn_check_steps(const int64_t *step, int64_t n, int64_t most);
//! A homogeneous delay ring: `slots` rows of `width` neuron numbers, row k
//! holding len[k] <= width numbers in [0, width). The first bad row, or -1.
int64_t snn_check_ring(const int32_t *ring, const int64_t *len, int64_t slots, int64_t width);
//! Slots of a spike queue (buffers of int32 numbers in [0, hi)): the first bad slot, or -1.
int64_t snn_check_slots(const snn_buf *slots, int64_t n, int64_t hi);

/* ---------------------------------------------------------------------------
 * Ranks (MPI; a build with -DSNN_MPI, passes/distribute.py): the group's
 * elements [0, n) are cut into blocks, rank r holding [n r / R, n (r+1) / R)
 * (snn_part_start); a synapse belongs to the rank of its postsynaptic neuron.
 * ------------------------------------------------------------------------- */

//! The rank whose block of [0, n) holds element e, among `ranks`.
int snn_rank_owner(int64_t e, int64_t n, int ranks);

#ifdef SNN_MPI
//! The spikes of `ngroups` groups: group g's list spikes[g][0..*counts[g]),
//! the rank's own (ascending, in its block), becomes every rank's whole list,
//! in rank order -- ascending, as one process lists them -- and *counts[g]
//! its length; one exchange for all the groups. Each list has room for the
//! whole group. 0, or -1 with a message in err.
int snn_rank_spikes(int ngroups, int32_t *const *spikes, int64_t *const *counts, int ranks, char *err,
                    size_t errlen);
//! Make the elements [first, first + n) of the array `data` (elements of
//! `size` bytes) whole on every rank: element e is valid on the rank owning
//! index[e] (e where `index` is NULL) among the blocks of [0, owner_n);
//! every rank gets the owners' values. 0, or -1 with a message in err.
int snn_rank_sync(void *data, size_t size, int64_t first, int64_t n, const int32_t *index, int64_t owner_n,
                  int rank, int ranks, char *err, size_t errlen);
//! Whether any rank has `flag` set (every rank gets the same answer).
int snn_rank_any(int flag);

/* A rank's failure must never leave the others waiting in a collective it
 * will not join. A failure outside a run (setup, data, the protocol between
 * runs) sends the rank to snn_rank_settle, whose agreements are the other
 * ranks' snn_rank_running before their next run: they see it and stop there.
 * A failure inside a run (snn_rank_failed_in_run) is one every rank meets in
 * the same step (a rate that is not a probability), and then they end as
 * outside a run, or the rank's own (out of memory), and then it ends them all. */

//! After MPI_Init, on every rank (the communicator of snn_rank_failed_in_run).
void snn_rank_init(void);
//! Before MPI_Finalize, on every rank.
void snn_rank_finish(void);

//! Before a run's steps: 1 when every rank is here to run them, else 0 with
//! err empty (another rank failed: it reports) or saying how the ranks' protocols differ.
int snn_rank_running(char *err, size_t errlen);
//! The end of main on every rank, after its protocol ended with `rc` (0 done,
//! 130 interrupted, else failed); `reports` says the rank has its own message.
//! Returns the worst rc; *rank0_reports says rank 0 has a message of its own.
int snn_rank_settle(int rc, int reports, int rank, int *rank0_reports);
//! A failure inside a run on rank `rank`: returns when every rank has failed
//! too (within a second), else prints `message` and ends every rank (exit status 1).
void snn_rank_failed_in_run(int rank, const char *message);
#endif

#ifdef __cplusplus
}
#endif

#endif /* SNN_RUNTIME_H */
