/* snn_support.h: the small math the generated expressions use, with the
 * semantics of the .snn language (Python's % sign rule, Brian2's clip). */
#ifndef SNN_SUPPORT_H
#define SNN_SUPPORT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "snn_runtime.h"

#ifdef _OPENMP
#include <omp.h>
//! An OpenMP directive, left out (without a warning) by a compiler without OpenMP.
#define SNN_OMP(directive) _Pragma(#directive)
#else
#define SNN_OMP(directive)
#endif

/* Threads (snn_sim_set_threads). One team runs a whole run (snn_run_for):
 * every thread runs every step. A loop is shared among them only where
 * every thread computes exactly what the one thread would (passes/share_work.py
 * decides which), so the results do not depend on their number; and only
 * when it has work enough to be worth splitting: a step's spikes reach
 * SNN_PARALLEL_MIN synapses (snn_sim_set_parallel_min), or a group has
 * SNN_UPDATE_WORK (a state update) or SNN_THRESHOLD_WORK (a threshold) times
 * as many elements (an element is less work than a synapse). Either way the
 * loop ends at a barrier (about half a microsecond on two cores). */
#define SNN_PARALLEL_MIN 64
#define SNN_UPDATE_WORK 4
#define SNN_THRESHOLD_WORK 16

//! This thread's number among `snn_team_size()` (0 of 1 without OpenMP).
static inline int snn_team_member(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static inline int snn_team_size(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

//! Where the part of 0..n-1 that thread `k` of `team` takes starts (it ends where
//! part k + 1 starts): contiguous parts, in order. n < 2**55 (elements and
//! neurons are counted in int32), so n * k does not overflow.
static inline int64_t snn_part_start(int64_t n, int k, int team)
{
    return n * k / team;
}

//! The row of CSR offsets start[0 .. n] (ascending) that element s falls in:
//! the last r < n with start[r] <= s; 0 where n is 0. A loop over elements
//! from s on finds the next ones' rows by moving forward from it.
static inline int64_t snn_row_of(const int64_t *start, int64_t n, int64_t s)
{
    int64_t lo = 0, hi = n;  /* start[lo] <= s, or lo == 0 */
    while (hi - lo > 1) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (start[mid] <= s)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

//! Whether the n elements of `size` bytes at `a` are all one value, bit for bit
//! (so 0.0 and -0.0 differ, and a NaN equals the same NaN): each element against
//! the one before it, in one memcmp of the array against itself one element on.
static inline int snn_all_same(const void *a, int64_t n, size_t size)
{
    return n <= 1 || memcmp((const char *)a + size, a, (size_t)(n - 1) * size) == 0;
}

//! Whether some of the n spikes are of neurons in [lo, hi).
static inline int snn_any_within(const int32_t *spikes, int64_t n, int64_t lo, int64_t hi)
{
    for (int64_t k = 0; k < n; k++)
        if (spikes[k] >= lo && spikes[k] < hi) return 1;
    return 0;
}

//! The first p in [lo, hi) with a[p] >= x, in an array ascending there.
static inline int64_t snn_lower_bound(const int32_t *a, int64_t lo, int64_t hi, int64_t x)
{
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//! clip(x, lo, hi) as Brian2's C++ `_clip`: NaN passes through.
//! (exp(x) - 1) / x, 1 at 0: Brian2's exprel, with its cut-offs.
static inline double snn_exprel(double x)
{
    if (fabs(x) < 1e-16)
        return 1.0;
    if (x > 717)
        return INFINITY;
    return expm1(x) / x;
}

//! x ** 2 and x ** -1 as one rounding each (ir.folded_power): never the C
//! library's pow, whatever the compiler folds.
static inline double snn_square(double x) { return x * x; }
static inline double snn_reciprocal(double x) { return 1.0 / x; }

static inline double snn_clip(double x, double lo, double hi)
{
    if (x < lo) return lo;
    if (x > hi) return hi;
    return x;
}

//! x % y with the sign of y, as Python and Brian2.
static inline double snn_fmod(double x, double y)
{
    double r = fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
}

static inline int64_t snn_imod(int64_t x, int64_t y)
{
    if (y == 0) return 0;
    int64_t r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
}

//! x // y rounded toward minus infinity, as Python and Brian2; 0 for y = 0
//! (C would trap), and INT64_MIN // -1 saturates.
static inline int64_t snn_ifloordiv(int64_t x, int64_t y)
{
    if (y == 0) return 0;
    if (y == -1) return x == INT64_MIN ? INT64_MAX : -x;
    int64_t q = x / y;
    if ((x % y != 0) && ((x < 0) != (y < 0))) q -= 1;
    return q;
}

//! x // y for doubles exactly as CPython's float floor division (not
//! floor(x / y), whose rounded quotient can be one too high: 1 // 0.1 is 9).
static inline double snn_ffloordiv(double x, double y)
{
    double mod = fmod(x, y);
    if (y == 0) return x / y;  /* inf or nan, as the C division */
    double div = (x - mod) / y;
    if (mod != 0) {
        if ((y < 0) != (mod < 0)) div -= 1.0;
    }
    double floordiv;
    if (div != 0) {
        floordiv = floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
        floordiv = copysign(0.0, x / y);
    }
    return floordiv;
}

//! int(x): truncation toward zero, saturating instead of undefined behaviour.
static inline int64_t snn_trunc(double x)
{
    if (!(x == x)) return 0;
    if (x >= 9.2e18) return INT64_MAX;
    if (x <= -9.2e18) return INT64_MIN;
    return (int64_t)x;
}

//! A number assigned to an integer variable: truncation toward zero, saturating at
//! the int32_t range instead of undefined behaviour (nan reads as 0, as in snn_trunc).
//! The row of a timed array that holds time t (ir.TimeStep): Brian2's
//! TimedArray, int((t / epsilon + 0.5) / upsample) with epsilon = period /
//! upsample, held at the first and last rows.
static inline int64_t snn_time_step(double t, double period, int64_t upsample, int64_t rows)
{
    int64_t k = snn_trunc((t / (period / (double)upsample) + 0.5) / (double)upsample);
    if (k >= rows)
        k = rows - 1;
    if (k < 0)
        k = 0;
    return k;
}

static inline int32_t snn_to_i32(double x)
{
    if (!(x == x)) return 0;
    if (x >= 2147483647.0) return INT32_MAX;
    if (x <= -2147483648.0) return INT32_MIN;
    return (int32_t)x;
}

static inline int64_t snn_iabs(int64_t x) { return x < 0 ? -x : x; }
//! Brian2's sign(): -1, 0 or 1 (0 for nan, as its C++ and Cython targets).
static inline int64_t snn_isign(int64_t x) { return (x > 0) - (x < 0); }
static inline double snn_sign(double x) { return (double)((x > 0) - (x < 0)); }
static inline int64_t snn_imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t snn_imax(int64_t a, int64_t b) { return a > b ? a : b; }

//! The longest simulation, in time steps (MAX_STEPS of snndsl/semantics/check.py). Up to
//! 2**53 every step count is an exact double, so t = step * dt is exact, and the sum of two
//! step counts (t_end = t + duration, a spike's arrival step) cannot overflow int64_t. The
//! checker refuses a duration known at compile time past it; snn_run_for and
//! snn_prepare_run refuse one that comes from a parameter, before the first step.
#define SNN_MAX_STEPS (INT64_C(1) << 53)

//! Whether `n` steps (a double, not yet rounded) fit the step counter: false for NaN too.
static inline int snn_steps_fit(double n)
{
    return n >= 0 && n <= (double)SNN_MAX_STEPS;
}

//! The one conversion of a number of steps (a double) to the step counter's type:
//! truncation toward zero, clamped to +-SNN_STEPS_NEVER (2**54, beyond every step a
//! simulation reaches, and far from int64_t overflow when added to one) -- so that no value (inf, nan, 1e300 s / dt) is undefined behaviour; nan
//! reads as +2**54. A value the user gave is checked first (snn_steps_fit) and
//! reported; what clamps here is only ever an intermediate, such as the steps since
//! lastspike = -1e4 s with a very small dt. Branch-free (minsd/maxsd): it runs per
//! neuron and step in refractoriness.
#define SNN_STEPS_NEVER (INT64_C(1) << 54)

static inline int64_t snn_steps(double n)
{
    const double beyond = (double)SNN_STEPS_NEVER;
    double c = n < beyond ? n : beyond;
    c = c > -beyond ? c : -beyond;
    return (int64_t)c;
}

//! Brian2's Clock._calc_timestep: round when within 1e-4 dt, else round up.
static inline int64_t snn_timestep(double t, double dt)
{
    double n = round(t / dt);
    if (n * dt == t || fabs(n * dt - t) / dt <= 1e-4) return snn_steps(n);
    return snn_steps(ceil(t / dt));
}

//! Entries of a table of decay factors exp(a k dt), k = 0 .. SNN_DECAY_STEPS - 1.
#define SNN_DECAY_STEPS 4096

//! exp(a * elapsed): from the table when `elapsed` is a whole number of steps
//! within it (it always is a whole number: times are step * dt), else computed.
static inline double snn_decay(const double *table, double a, double elapsed, double inv_dt)
{
    double steps = elapsed * inv_dt;
    if (steps >= 0 && steps < SNN_DECAY_STEPS - 1) {
        int64_t k = (int64_t)(steps + 0.5);
        if (fabs(steps - (double)k) < 1e-6) return table[k];
    }
    return exp(a * elapsed);
}

//! snn_decay where snn_decays_tabulated holds: the table's factor, without a branch.
static inline double snn_decay_tabulated(const double *table, double elapsed, double inv_dt)
{
    return table[(int64_t)(elapsed * inv_dt + 0.5)];
}

//! Steps before the next success of a Bernoulli process with probability p per
//! step (0 when p >= 1; SNN_STEPS_NEVER, past the last step, when p <= 0 or when
//! the draw is that far): the geometric distribution, from one uniform number.
static inline int64_t snn_geometric(snn_rng *rng, double p)
{
    if (p >= 1) return 0;
    if (!(p > 0)) return SNN_STEPS_NEVER;
    double u = snn_rng_uniform(rng);
    return snn_steps(floor(log1p(-u) / log1p(-p)));
}

//! snn_geometric from a counter-based generator.
static inline int64_t snn_ctr_geometric(snn_ctr *rng, double p)
{
    if (p >= 1) return 0;
    if (!(p > 0)) return SNN_STEPS_NEVER;
    double u = snn_ctr_uniform(rng);
    return snn_steps(floor(log1p(-u) / log1p(-p)));
}

//! Brian2's timestep(t, dt) for refractoriness: whole steps in a duration,
//! shifted by 1e-3 dt so that multiples of dt never fall short.
static inline int64_t snn_elapsed_steps(double t, double dt)
{
    return snn_steps((t + 1e-3 * dt) / dt);
}

//! snn_elapsed_steps(t, dt) >= steps, compared in double precision with no
//! conversion (it runs per neuron and step): trunc(y) >= R holds exactly when
//! y >= R for R >= 1, and when y > R - 1 for R <= 0 (R is exact: |R| <= 2**54).
static inline int snn_elapsed_reaches(double t, double dt, int64_t steps)
{
    const double y = (t + 1e-3 * dt) / dt, r = (double)steps;
    return steps >= 1 ? y >= r : y > r - 1;
}

//! The least a for which snn_elapsed_reaches holds when t + 1e-3 dt = a, so
//! that, for every t (NaN included), snn_elapsed_reaches(t, dt, steps) ==
//! (t + 1e-3 * dt >= snn_elapsed_from(dt, steps)): a comparison instead of a
//! division per neuron and step. a / dt, correctly rounded, never decreases
//! as a grows, so the a that pass are all those from one on; it lies within
//! a few ulps of R dt, found by stepping from there. dt > 0.
static inline double snn_elapsed_from(double dt, int64_t steps)
{
    const double r = (double)steps;
#define SNN_PASSES(a) (steps >= 1 ? (a) / dt >= r : (a) / dt > r - 1)
    double a = (steps >= 1 ? r : r - 1) * dt;
    while (a > -INFINITY && SNN_PASSES(a)) a = nextafter(a, -INFINITY);  /* to the last that fails */
    while (!SNN_PASSES(a)) a = nextafter(a, INFINITY);                    /* to the first that passes */
#undef SNN_PASSES
    return a;
}

#endif
