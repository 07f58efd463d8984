/* bare_loop.c: the bare-loop limit of an all-to-all STDP synapse (bench/bare_bench.py).
 *
 * The least work the forum model's synapses can be simulated with: the weights in
 * presynaptic order (as snndsl and Brian2 store them), and for each spike the one
 * load, add, clip and store per synapse that the model's weight update needs -- a
 * presynaptic spike walks its row (contiguous), a postsynaptic spike its column (a
 * stride of n_post doubles). No trace decays, no `learned`, no monitors, no random
 * numbers in the loop: the spike trains (Bernoulli, p = rate dt per neuron and step)
 * are drawn before the clock starts. What a simulator spends beyond this is its own.
 *
 *   bare_loop N_PRE N_POST RATE_PRE_HZ RATE_POST_HZ STEPS DT_S
 * prints: seconds of the loop, synaptic events, a checksum of the weights.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t state = 0x9E3779B97F4A7C15u;

static double uniform(void)  /* xorshift64*: any generator will do, it is not timed */
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (double)((state * 0x2545F4914F6CDD1Du) >> 11) * 0x1.0p-53;
}

static inline double clip(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* the spikes of n neurons over `steps` steps: start[k] .. start[k + 1] in idx */
static void draw(int64_t n, double p, int64_t steps, int64_t **start, int32_t **idx)
{
    int64_t cap = (int64_t)(n * p * steps * 1.2) + 1024, len = 0;
    *start = malloc((size_t)(steps + 1) * sizeof(int64_t));
    *idx = malloc((size_t)cap * sizeof(int32_t));
    for (int64_t k = 0; k < steps; k++) {
        (*start)[k] = len;
        for (int64_t i = 0; i < n; i++)
            if (uniform() < p) {
                if (len == cap) *idx = realloc(*idx, (size_t)(cap *= 2) * sizeof(int32_t));
                (*idx)[len++] = (int32_t)i;
            }
    }
    (*start)[steps] = len;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s N_PRE N_POST RATE_PRE_HZ RATE_POST_HZ STEPS DT_S\n", argv[0]);
        return 2;
    }
    const int64_t n_pre = atoll(argv[1]), n_post = atoll(argv[2]), steps = atoll(argv[5]);
    const double dt = atof(argv[6]), p_pre = atof(argv[3]) * dt, p_post = atof(argv[4]) * dt;
    double *w = malloc((size_t)(n_pre * n_post) * sizeof(double));
    double *x = calloc((size_t)n_pre, sizeof(double)), *y = calloc((size_t)n_post, sizeof(double));
    for (int64_t s = 0; s < n_pre * n_post; s++) w[s] = uniform();
    int64_t *pre_start, *post_start;
    int32_t *pre_idx, *post_idx;
    draw(n_pre, p_pre, steps, &pre_start, &pre_idx);
    draw(n_post, p_post, steps, &post_start, &post_idx);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int64_t k = 0; k < steps; k++) {
        for (int64_t q = pre_start[k]; q < pre_start[k + 1]; q++) {  /* on pre: the row */
            const int64_t i = pre_idx[q];
            x[i] += 1;
            double *restrict row = w + i * n_post;
            for (int64_t j = 0; j < n_post; j++) row[j] = clip(row[j] + y[j], 0, 1);
        }
        for (int64_t q = post_start[k]; q < post_start[k + 1]; q++) {  /* on post: the column */
            const int64_t j = post_idx[q];
            y[j] -= 1;
            for (int64_t i = 0; i < n_pre; i++) w[i * n_post + j] = clip(w[i * n_post + j] + x[i], 0, 1);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);

    double sum = 0;
    for (int64_t s = 0; s < n_pre * n_post; s++) sum += w[s];
    const int64_t events = pre_start[steps] * n_post + post_start[steps] * n_pre;
    printf("%.6f %lld %.17g\n", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
           (long long)events, sum);
    return 0;
}
