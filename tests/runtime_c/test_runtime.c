//! test_runtime.c - tests of runtime_c/snn_runtime.{h,c}, built and run by
//! test_runtime_c.py.
//!
//!     test_runtime [FIXTURES OUT]
//!
//! FIXTURES holds .npy/.npz files written by numpy; OUT is an empty scratch
//! directory whose files the Python side checks afterwards. Without the two
//! arguments only the tests that need no files run. The last line printed is
//! "N passed, M failed"; the exit status is 1 if anything failed.
//! This file deliberately uses no POSIX: the header must not need it.
#include "snn_runtime.h"
#include "snn_support.h"  // the inline math of generated expressions

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int n_passed, n_failed;  // test counters (the runtime itself has no globals)

static bool check(bool ok, const char *what, int line)
{
    if (ok)
        n_passed++;
    else {
        n_failed++;
        printf("FAIL line %d: %s\n", line, what);
    }
    return ok;
}

#define CHECK(cond) check((cond), #cond, __LINE__)
#define CHECK_STR(got, want) check_str((got), (want), __LINE__)
#define CHECK_HAS(got, part) check_has((got), (part), __LINE__)
#define CHECK_NEAR(got, want, tol) check_near((got), (want), (tol), #got, __LINE__)

static void check_str(const char *got, const char *want, int line)
{
    if (!check(got && !strcmp(got, want), "string equal", line))
        printf("    got  '%s'\n    want '%s'\n", got ? got : "(null)", want);
}

static void check_has(const char *got, const char *part, int line)
{
    if (!check(got && strstr(got, part), "string contains", line))
        printf("    got  '%s'\n    want it to contain '%s'\n", got ? got : "(null)", part);
}

static void check_near(double got, double want, double tol, const char *what, int line)
{
    if (!check(fabs(got - want) <= tol, what, line))
        printf("    got %.17g, want %.17g +- %g\n", got, want, tol);
}

//! dir + "/" + name in buf.
static const char *in_dir(char *buf, const char *dir, const char *name)
{
    if (snprintf(buf, 1024, "%s/%s", dir, name) >= 1024) {
        printf("path too long: %s/%s\n", dir, name);
        exit(2);
    }
    return buf;
}

static bool file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* ------------------------------------------------------------------ RNG */

static void test_rng(void)
{
    snn_rng r = {{1, 2, 3, 4}};  // reference outputs of xoshiro256** from this state
    const uint64_t ref[4] = {11520u, 0u, 1509978240u, 1215971899390074240u};
    for (int i = 0; i < 4; i++)
        CHECK(snn_rng_next(&r) == ref[i]);

    snn_rng a, b, c, d;
    snn_rng_seed(&a, 42, 0);
    snn_rng_seed(&b, 42, 0);
    snn_rng_seed(&c, 42, 1);
    snn_rng_seed(&d, 43, 0);
    int same_ab = 0, same_ac = 0, same_ad = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = snn_rng_next(&a);
        same_ab += x == snn_rng_next(&b);
        same_ac += x == snn_rng_next(&c);
        same_ad += x == snn_rng_next(&d);
    }
    CHECK(same_ab == 1000);  // deterministic
    CHECK(same_ac == 0);     // streams differ
    CHECK(same_ad == 0);     // seeds differ

    // uniform: range, mean, variance; two streams uncorrelated
    const int n = 1000000;
    double sum = 0, sum2 = 0, cross = 0, lo = 1, hi = 0;
    snn_rng_seed(&a, 7, 0);
    snn_rng_seed(&c, 7, 1);
    for (int i = 0; i < n; i++) {
        double u = snn_rng_uniform(&a), v = snn_rng_uniform(&c);
        sum += u;
        sum2 += u * u;
        cross += (u - 0.5) * (v - 0.5);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    CHECK(lo >= 0.0 && hi < 1.0);
    CHECK(lo < 1e-4 && hi > 1 - 1e-4);
    CHECK_NEAR(sum / n, 0.5, 0.002);
    CHECK_NEAR(sum2 / n - (sum / n) * (sum / n), 1.0 / 12, 0.001);
    CHECK_NEAR(cross / n * 12, 0.0, 0.01);  // correlation coefficient

    // normal: mean, standard deviation, mass within one sigma
    int within = 0;
    sum = sum2 = 0;
    for (int i = 0; i < n; i++) {
        double x = snn_rng_normal(&a);
        sum += x;
        sum2 += x * x;
        within += fabs(x) < 1.0;
    }
    CHECK_NEAR(sum / n, 0.0, 0.005);
    CHECK_NEAR(sqrt(sum2 / n - (sum / n) * (sum / n)), 1.0, 0.005);
    CHECK_NEAR((double)within / n, 0.682689, 0.003);

    // a normal deviate depends only on the generator state
    snn_rng_seed(&a, 5, 3);
    snn_rng_seed(&b, 5, 3);
    snn_rng_normal(&a);
    snn_rng_normal(&b);
    CHECK(snn_rng_normal(&a) == snn_rng_normal(&b));
}

/* The counter-based generator: Random123's known answers for Philox4x32-10
 * (kat_vectors), then the properties the time step relies on. */
static void test_philox(void)
{
    static const uint32_t kat[3][3][4] = {
        /* counter, key (2 words), expected */
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
        {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu},
         {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
        {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u},
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
    };
    for (int v = 0; v < 3; v++) {
        uint32_t c[4];
        memcpy(c, kat[v][0], sizeof c);
        snn_philox4x32(c, kat[v][1][0], kat[v][1][1]);
        for (int w = 0; w < 4; w++)
            CHECK(c[w] == kat[v][2][w]);
    }

    // a draw is a function of (seed, site, step, element) and of the draws before it
    snn_ctr a, b;
    snn_ctr_at(&a, 42, 8, 1000, 7);
    snn_ctr_at(&b, 42, 8, 1000, 7);
    for (int i = 0; i < 5; i++)
        CHECK(snn_ctr_uniform(&a) == snn_ctr_uniform(&b));
    const int64_t keys[5][3] = {{8, 1000, 8}, {8, 1001, 7}, {9, 1000, 7}, {8, 1000, INT64_C(1) << 32},
                                {8, INT64_C(1000) + (INT64_C(1) << 32), 7}};
    snn_ctr_at(&a, 42, 8, 1000, 7);
    const double first = snn_ctr_uniform(&a);
    for (int k = 0; k < 5; k++) {
        snn_ctr_at(&b, 42, (uint32_t)keys[k][0], keys[k][1], keys[k][2]);
        CHECK(snn_ctr_uniform(&b) != first);
    }
    snn_ctr_at(&b, 43, 8, 1000, 7);
    CHECK(snn_ctr_uniform(&b) != first);

    // uniform numbers over elements (one each, as a noisy group draws) and over
    // the draws of one element; normal numbers over elements
    const int n = 1000000;
    double sum = 0, sum2 = 0, cross = 0, lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        snn_ctr_at(&a, 7, 4, 3, i);
        double u = snn_ctr_uniform(&a), v = snn_ctr_uniform(&a);
        sum += u;
        sum2 += u * u;
        cross += (u - 0.5) * (v - 0.5);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    CHECK(lo >= 0.0 && hi < 1.0);
    CHECK(lo < 1e-4 && hi > 1 - 1e-4);
    CHECK_NEAR(sum / n, 0.5, 0.002);
    CHECK_NEAR(sum2 / n - (sum / n) * (sum / n), 1.0 / 12, 0.001);
    CHECK_NEAR(cross / n * 12, 0.0, 0.01);
    int within = 0;
    sum = sum2 = 0;
    for (int i = 0; i < n; i++) {
        snn_ctr_at(&a, 7, 5, i / 1000, i % 1000);
        double x = snn_ctr_normal(&a);
        sum += x;
        sum2 += x * x;
        within += fabs(x) < 1.0;
    }
    CHECK_NEAR(sum / n, 0.0, 0.005);
    CHECK_NEAR(sqrt(sum2 / n - (sum / n) * (sum / n)), 1.0, 0.005);
    CHECK_NEAR((double)within / n, 0.682689, 0.003);

    // binomial numbers from it: the mean of Binomial(50, 0.3) (inversion) and of
    // Binomial(1000, 0.3) (BTRS)
    snn_binomial_t bin;
    const int64_t ns[2] = {50, 1000};
    for (int m = 0; m < 2; m++) {
        snn_binomial_prepare(&bin, ns[m], 0.3);
        double total = 0;
        for (int i = 0; i < 100000; i++) {
            snn_ctr_at(&a, 11, 12, 0, i);
            total += (double)snn_binomial_draw_ctr(&bin, &a);
        }
        CHECK_NEAR(total / 100000 / (0.3 * (double)ns[m]), 1.0, 0.01);
    }
}

/* ---------------------------------------------------- buffer and strings */

static void test_buf(void)
{
    snn_buf b;
    snn_buf_init(&b, sizeof(int));
    CHECK(b.len == 0 && b.cap == 0 && b.data == NULL);
    bool ok = true;
    for (int i = 0; i < 1000; i++)
        ok = ok && snn_buf_push(&b, &i) == 0;
    CHECK(ok && b.len == 1000 && b.cap >= 1000);
    int sum_ok = 1;
    for (int i = 0; i < 1000; i++)
        sum_ok &= ((int *)b.data)[i] == i;
    CHECK(sum_ok);
    CHECK(*(int *)snn_buf_at(&b, 999) == 999);
    size_t cap = b.cap;
    CHECK(snn_buf_reserve(&b, 0) == 0 && b.cap == cap);
    CHECK(snn_buf_reserve(&b, cap - b.len) == 0 && b.cap == cap);
    CHECK(snn_buf_reserve(&b, cap - b.len + 1) == 0 && b.cap >= cap + 1);
    void *data = b.data;
    cap = b.cap;
    CHECK(snn_buf_reserve(&b, SIZE_MAX) == -1);
    CHECK(snn_buf_reserve(&b, SIZE_MAX / 2) == -1);  // too many bytes for size_t
    CHECK(b.data == data && b.cap == cap && b.len == 1000 && ((int *)b.data)[500] == 500);
    snn_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    snn_buf_free(&b);  // twice is harmless
}

//! snn_choose: k distinct values of 0 .. n - 1, ascending, k draws; all of them
//! for k = n; each value about equally often.
static void test_choose(void)
{
    snn_rng r;
    snn_rng_seed(&r, 7, 1);
    snn_buf chosen, table;
    snn_buf_init(&chosen, sizeof(int64_t));
    snn_buf_init(&table, sizeof(int64_t));
    CHECK(snn_choose(&r, 10, 0, &chosen, &table) == 0 && chosen.len == 0);
    CHECK(snn_choose(&r, 10, 10, &chosen, &table) == 0 && chosen.len == 10);
    bool all = true;
    for (int64_t k = 0; k < 10; k++)
        all = all && ((int64_t *)chosen.data)[k] == k;
    CHECK(all);
    int counts[20] = {0};
    bool ascending = true;
    for (int rep = 0; rep < 20000; rep++) {
        CHECK(snn_choose(&r, 20, 5, &chosen, &table) == 0 && chosen.len == 5);
        const int64_t *c = chosen.data;
        for (int k = 0; k < 5; k++) {
            ascending = ascending && c[k] >= 0 && c[k] < 20 && (k == 0 || c[k] > c[k - 1]);
            counts[c[k]]++;
        }
    }
    CHECK(ascending);
    bool even = true;  // 5000 expected each, sd about 61
    for (int k = 0; k < 20; k++)
        even = even && abs(counts[k] - 5000) < 400;
    CHECK(even);
    snn_rng a, b;  // exactly k draws: the generator ends where k uniforms leave it
    snn_rng_seed(&a, 3, 2);
    snn_rng_seed(&b, 3, 2);
    CHECK(snn_choose(&a, 1000000, 7, &chosen, &table) == 0);
    for (int k = 0; k < 7; k++)
        (void)snn_rng_uniform(&b);
    CHECK(snn_rng_next(&a) == snn_rng_next(&b));
    snn_buf_free(&chosen);
    snn_buf_free(&table);
}

static void test_sb(void)
{
    snn_sb b;
    snn_sb_init(&b);
    CHECK_STR(snn_sb_cstr(&b), "");
    snn_sb_printf(&b, "%d-%s", 12, "ab");
    CHECK_STR(b.s, "12-ab");
    for (int i = 0; i < 100; i++)
        snn_sb_printf(&b, "%s", "0123456789");
    CHECK(b.len == 5 + 1000 && strlen(b.s) == b.len && !b.failed);
    CHECK(!strncmp(b.s + 995, "0123456789", 10));
    snn_sb_free(&b);

    snn_sb_json_string(&b, "a\"b\\c\nd\te\x01\x1f/\r\b\f\xc3\xa9\x7f");
    CHECK_STR(b.s, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f/\\r\\b\\f\xc3\xa9\x7f\"");
    snn_sb_free(&b);
    snn_sb_json_string(&b, NULL);
    snn_sb_printf(&b, " ");
    snn_sb_json_string(&b, "");
    CHECK_STR(b.s, "null \"\"");
    snn_sb_free(&b);

    const double xs[] = {0.1, 1.0 / 3, 20, -0.065, 1e300, 5e-324, 1e-7, 123456789012345678.0, 0.0};
    const char *want[] = {"0.1", "0.3333333333333333", "20", "-0.065", "1e+300", "4.94065645841247e-324",
                          "1e-07", "1.2345678901234568e+17", "0"};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        snn_sb_free(&b);
        snn_sb_json_double(&b, xs[i]);
        CHECK_STR(b.s, want[i]);
    }
    snn_sb_free(&b);
    snn_sb_json_double(&b, NAN);
    snn_sb_printf(&b, ",");
    snn_sb_json_double(&b, -INFINITY);
    CHECK_STR(b.s, "null,null");
    snn_sb_free(&b);

    snn_rng r;  // every double survives the trip through text
    snn_rng_seed(&r, 1, 99);
    int exact = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t bits = snn_rng_next(&r);
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x)) {
            exact++;
            continue;
        }
        snn_sb_free(&b);
        snn_sb_json_double(&b, x);
        exact += strtod(b.s, NULL) == x;
    }
    CHECK(exact == 10000);
    snn_sb_free(&b);
}

/* ------------------------------------------------------------------ npy */

static void test_npy_write(const char *out)
{
    // The Python side checks these files with numpy.load and against np.save.
    const size_t shape[2] = {2, 3};
    const double f8[6] = {-3, -1, 0.5, 1, 2, 100};
    const float f4[6] = {-3, -1, 0.5f, 1, 2, 100};
    const int32_t i4[6] = {-3, -1, 0, 1, 2, 2147483647};
    const int64_t i8[6] = {-3, -1, 0, 1, 2, (int64_t)1 << 53};
    const bool b1[6] = {1, 0, 1, 0, 0, 1};
    const uint8_t u1[6] = {0, 1, 2, 3, 100, 255};
    const struct { const char *descr, *file; const void *data; double want[6]; } cases[] = {
        {"<f8", "rt_f8.npy", f8, {-3, -1, 0.5, 1, 2, 100}},
        {"<f4", "rt_f4.npy", f4, {-3, -1, 0.5, 1, 2, 100}},
        {"<i4", "rt_i4.npy", i4, {-3, -1, 0, 1, 2, 2147483647}},
        {"<i8", "rt_i8.npy", i8, {-3, -1, 0, 1, 2, 9007199254740992.0}},
        {"|b1", "rt_b1.npy", b1, {1, 0, 1, 0, 0, 1}},
        {"|u1", "rt_u1.npy", u1, {0, 1, 2, 3, 100, 255}},
    };
    char path[1024], err[512];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        in_dir(path, out, cases[c].file);
        CHECK(snn_npy_write(path, cases[c].descr, 2, shape, cases[c].data, err, sizeof err) == 0);
        snn_array a;
        if (!CHECK(snn_npy_read(path, &a, err, sizeof err) == 0)) {
            printf("    %s\n", err);
            continue;
        }
        bool same = a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.size == 6;
        for (int i = 0; same && i < 6; i++)
            same = a.data[i] == cases[c].want[i];
        if (!CHECK(same))
            printf("    roundtrip of %s\n", cases[c].descr);
        snn_array_free(&a);
    }

    // 0-d, 1-d and empty arrays
    const double x = 3.25;
    const size_t n5[1] = {5}, empty[2] = {0, 3};
    snn_array a;
    CHECK(snn_npy_write(in_dir(path, out, "rt_scalar.npy"), "<f8", 0, NULL, &x, err, sizeof err) == 0);
    CHECK(snn_npy_read(path, &a, err, sizeof err) == 0 && a.ndim == 0 && a.size == 1 && a.data[0] == 3.25);
    snn_array_free(&a);
    CHECK(snn_npy_write(in_dir(path, out, "rt_1d.npy"), "<f8", 1, n5, f8, err, sizeof err) == 0);
    CHECK(snn_npy_read(path, &a, err, sizeof err) == 0 && a.ndim == 1 && a.shape[0] == 5 && a.data[4] == 2);
    snn_array_free(&a);
    CHECK(snn_npy_write(in_dir(path, out, "rt_empty.npy"), "<f8", 2, empty, NULL, err, sizeof err) == 0);
    CHECK(snn_npy_read(path, &a, err, sizeof err) == 0 && a.ndim == 2 && a.size == 0 && a.shape[1] == 3);
    snn_array_free(&a);

    // errors
    CHECK(snn_npy_write(in_dir(path, out, "x.npy"), "<c16", 1, n5, f8, err, sizeof err) == -1);
    CHECK_HAS(err, "'<c16'");
    CHECK(snn_npy_write(in_dir(path, out, "no/such/dir/x.npy"), "<f8", 1, n5, f8, err, sizeof err) == -1);
    CHECK_HAS(err, "no/such/dir/x.npy");
    CHECK(snn_npy_write(in_dir(path, out, "x.npy"), "<f8", 9, n5, f8, NULL, 0) == -1);  // no err buffer
}

//! Reads spec from the fixtures directory; NULL-safe result for CHECKs.
static int read_fixture(const char *fix, const char *name, snn_array *a, char *err)
{
    char path[1024];
    int rc = snn_npy_read(in_dir(path, fix, name), a, err, 512);
    if (rc)
        printf("    (%s: %s)\n", name, err);
    return rc;
}

static bool values_are(const snn_array *a, const double *want, size_t n)
{
    if (a->size != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (a->data[i] != want[i])
            return false;
    return true;
}

static void test_npy_fixtures(const char *fix)
{
    // dt_*.npy: shape (2, 3); signed and float types hold S, unsigned ones U, bool B
    static const double S[6] = {-3, -1, 0, 1, 2, 100}, U[6] = {0, 1, 2, 3, 100, 255}, B[6] = {1, 0, 1, 0, 0, 1};
    static const struct { const char *file; const double *want; } dtypes[] = {
        {"dt_le_f8.npy", S}, {"dt_be_f8.npy", S}, {"dt_le_f4.npy", S}, {"dt_be_f4.npy", S},
        {"dt_le_f2.npy", S}, {"dt_be_f2.npy", S}, {"dt_i1.npy", S}, {"dt_le_i2.npy", S},
        {"dt_be_i2.npy", S}, {"dt_le_i4.npy", S}, {"dt_be_i4.npy", S}, {"dt_le_i8.npy", S},
        {"dt_be_i8.npy", S}, {"dt_u1.npy", U}, {"dt_le_u2.npy", U}, {"dt_be_u2.npy", U},
        {"dt_le_u4.npy", U}, {"dt_be_u4.npy", U}, {"dt_le_u8.npy", U}, {"dt_be_u8.npy", U},
        {"dt_b1.npy", B},
    };
    char err[512];
    snn_array a;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
        bool ok = read_fixture(fix, dtypes[i].file, &a, err) == 0 && a.ndim == 2 && a.shape[0] == 2
                  && a.shape[1] == 3 && values_are(&a, dtypes[i].want, 6);
        if (!CHECK(ok))
            printf("    fixture %s\n", dtypes[i].file);
        snn_array_free(&a);
    }

    const double i8_big[3] = {-9007199254740992.0, 9007199254740992.0, -9223372036854775808.0};
    CHECK(read_fixture(fix, "i8_big.npy", &a, err) == 0 && values_are(&a, i8_big, 3));
    snn_array_free(&a);
    const double u8_big[2] = {18446744073709551615.0, 9223372036854775808.0};
    CHECK(read_fixture(fix, "u8_big.npy", &a, err) == 0 && values_are(&a, u8_big, 2));
    snn_array_free(&a);
    const double f2_special[4] = {65504.0, 5.9604644775390625e-08, -0.0, INFINITY};
    CHECK(read_fixture(fix, "f2_special.npy", &a, err) == 0 && values_are(&a, f2_special, 4));
    snn_array_free(&a);

    // Fortran order comes back in C order: element j of arange is j
    double ramp[24];
    for (int i = 0; i < 24; i++)
        ramp[i] = i;
    CHECK(read_fixture(fix, "fortran3d.npy", &a, err) == 0 && a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 3
          && a.shape[2] == 4 && values_are(&a, ramp, 24));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "fortran2d_be_i4.npy", &a, err) == 0 && a.ndim == 2 && a.shape[0] == 3
          && a.shape[1] == 2 && values_are(&a, ramp, 6));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "fortran1d.npy", &a, err) == 0 && values_are(&a, ramp, 4));
    snn_array_free(&a);

    const double scalar = 3.5;
    CHECK(read_fixture(fix, "scalar.npy", &a, err) == 0 && a.ndim == 0 && values_are(&a, &scalar, 1));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "empty.npy", &a, err) == 0 && a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 3
          && a.size == 0);
    snn_array_free(&a);
    CHECK(read_fixture(fix, "v2.npy", &a, err) == 0 && a.ndim == 1 && values_are(&a, ramp, 5));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "v3.npy", &a, err) == 0 && a.ndim == 1 && values_are(&a, ramp, 5));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "dims8.npy", &a, err) == 0 && a.ndim == 8 && a.shape[7] == 2 && values_are(&a, ramp, 2));
    snn_array_free(&a);

    // .npz archives written by np.savez
    const double npz_b[4] = {1, 2, 3, 4};
    CHECK(read_fixture(fix, "arrays.npz:a", &a, err) == 0 && a.ndim == 1 && values_are(&a, ramp, 3));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "arrays.npz:b", &a, err) == 0 && a.ndim == 2 && a.shape[0] == 2 && values_are(&a, npz_b, 4));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "arrays.npz:w.x", &a, err) == 0 && values_are(&a, ramp, 2));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "arrays.npz:b.npy", &a, err) == 0 && a.size == 4);  // entry name itself
    snn_array_free(&a);
    CHECK(read_fixture(fix, "single.npz", &a, err) == 0 && values_are(&a, ramp, 3));  // the only array
    snn_array_free(&a);
    CHECK(read_fixture(fix, "zip64.npz:first", &a, err) == 0 && values_are(&a, ramp, 10));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "zip64.npz:second", &a, err) == 0 && a.ndim == 2 && values_are(&a, ramp, 24));
    snn_array_free(&a);
    CHECK(read_fixture(fix, "odd.name.npz:k", &a, err) == 0 && values_are(&a, ramp, 2));
    snn_array_free(&a);

    // errors: each names the file and says what is wrong
    char path[1024];
    const struct { const char *file, *msg; } bad[] = {
        {"arrays.npz:w", "key 'w' not in '"},
        {"arrays.npz:w", "arrays.npz' (has: a, b, w.x)"},
        {"arrays.npz", "holds 3 arrays"},
        {"compressed.npz:x", "is compressed (np.savez_compressed); save it with np.savez or as .npy"},
        {"bad_magic.npy", "bad_magic.npy': not a .npy file (bad magic)"},
        {"short.npy", "not a .npy file (too short)"},
        {"truncated.npy", "truncated.npy': truncated"},
        {"truncated_header.npy", "truncated"},
        {"complex.npy", "dtype '<c16' is not supported (complex numbers)"},
        {"object.npy", "dtype '|O' is not supported (Python objects)"},
        {"string.npy", "(strings)"},
        {"datetime.npy", "(datetimes)"},
        {"structured.npy", "structured"},
        {"bad_header.npy", "malformed 'fortran_order'"},
        {"no_shape.npy", "lacks"},
        {"version9.npy", "unsupported .npy format version 9.0"},
        {"dims9.npy", "more than 8 dimensions"},
        {"npz_named_npy.npy", "zip archive"},
        {"not_a_zip.npz:a", "not a zip archive"},
        {"nonexistent.npy", "nonexistent.npy': no such file"},
        {"nonexistent.npz:a", "no such file"},
        {"subdir", "not a regular file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        a.data = (double *)&scalar;
        int rc = snn_npy_read(in_dir(path, fix, bad[i].file), &a, err, sizeof err);
        CHECK(rc == -1 && a.data == NULL);  // out is cleared on failure
        CHECK_HAS(err, bad[i].msg);
        if (rc == 0)
            snn_array_free(&a);
    }
}

/* ------------------------------------------------------------ quantities */

static void test_quantity(void)
{
    static const int VOLT[7] = {2, 1, -3, -1, 0, 0, 0}, NONE[7] = {0}, PER_S[7] = {0, 0, -1, 0, 0, 0, 0};
    static const int SIEMENS[7] = {-2, -1, 3, 2, 0, 0, 0}, V_PER_S[7] = {2, 1, -4, -1, 0, 0, 0};
    static const int S_PER_M2[7] = {-4, -1, 3, 2, 0, 0, 0}, SECOND[7] = {0, 0, 1, 0, 0, 0, 0};
    static const int MOLAR[7] = {-3, 0, 0, 0, 0, 1, 0}, OHM[7] = {2, 1, -3, -2, 0, 0, 0};
    static const int KG[7] = {0, 1, 0, 0, 0, 0, 0}, FARAD[7] = {-2, -1, 4, 2, 0, 0, 0};
    static const int AMP[7] = {0, 0, 0, 1, 0, 0, 0}, PER_M2[7] = {-2, 0, 0, 0, 0, 0, 0};
    static const int V2_PER_S2[7] = {4, 2, -8, -2, 0, 0, 0}, KELVIN_MOL_CD[7] = {0, 0, 0, 0, 1, 1, 1};
    static const struct { const char *text; double value; const int *dim; } ok[] = {
        {"20", 20, NONE},
        {"-65 mV", -0.065, VOLT},
        {"20Hz", 20, PER_S},
        {"0.5 nS", 0.5e-9, SIEMENS},
        {"2 mV/ms", 2, V_PER_S},
        {"1e-3 siemens/metre**2", 1e-3, S_PER_M2},
        {"10*ms", 0.01, SECOND},
        {"3 1/second", 3, PER_S},
        {"5/ms", 5000, PER_S},
        {"  7.5e1   pA  ", 75e-12, AMP},
        {".5 s", 0.5, SECOND},
        {"+2 kHz", 2000, PER_S},
        {"1 mM", 1, MOLAR},
        {"1 molar", 1000, MOLAR},
        {"2 uM", 2e-3, MOLAR},
        {"3 Mohm", 3e6, OHM},
        {"1 Gohm", 1e9, OHM},
        {"3 g", 3e-3, KG},
        {"200 pF", 200e-12, FARAD},
        {"4 metre**-2", 4, PER_M2},
        {"1 cm ** -2", 1e4, PER_M2},
        {"2 (mV/ms)**2", 2, V2_PER_S2},
        {"1 kelvin*mol*cd", 1, KELVIN_MOL_CD},
        {"1 s/s", 1, NONE},
        {"6 1", 6, NONE},
        {"1 us * kHz", 1e-3, NONE},
        {"0 mV", 0, VOLT},
        {"0e-400 mV", 0, VOLT},
        {"-0.000 V", 0, VOLT},
        {"1e-300 mV", 1e-303, VOLT},
        {"1.7e308 V", 1.7e308, VOLT},
    };
    char err[256];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -1;
        int dim[7] = {9, 9, 9, 9, 9, 9, 9};
        if (!CHECK(snn_parse_quantity(ok[i].text, &v, dim, err, sizeof err) == 0)) {
            printf("    '%s': %s\n", ok[i].text, err);
            continue;
        }
        CHECK_NEAR(v, ok[i].value, fabs(ok[i].value) * 1e-12);
        if (!CHECK(!memcmp(dim, ok[i].dim, sizeof dim)))
            printf("    dimension of '%s'\n", ok[i].text);
    }

    static const struct { const char *text, *msg; } bad[] = {
        {"20 Hzz", "'20 Hzz' is not a number with a unit: unknown unit 'Hzz'"},
        {"", "expected a number"},
        {"mV", "expected a number"},
        {"nan", "nan is not a number"},
        {"-NaN mV", "nan is not a number"},
        {"inf V", "infinity is not a finite number"},
        {"0x10", "unknown unit 'x10'"},
        {"1e999 V", "'1e999 V' overflows to infinity"},
        {"1e306 kHz", "overflows to infinity (the largest number is about 1.8e308 in SI units)"},
        {"1e-400 mV", "'1e-400 mV' underflows to zero"},
        {"1e-307 mV", "underflows to zero"},
        {"-5e-324", "underflows to zero"},
        {"20 mV/", "expected a unit"},
        {"20 mV*", "expected a unit"},
        {"20 mV**", "integer power"},
        {"20 mV**x", "integer power"},
        {"20 mV**1.5", "unexpected '.5'"},
        {"20 mV)", "unexpected ')'"},
        {"20 (mV", "missing ')'"},
        {"20 m V", "unexpected 'V'"},
        {"20 S", "unknown unit 'S'"},
        {"1 2", "expected a unit at '2'"},
        {"20 mV 3", "unexpected '3'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 0;
        int dim[7];
        err[0] = '\0';
        CHECK(snn_parse_quantity(bad[i].text, &v, dim, err, sizeof err) == -1);
        CHECK_HAS(err, bad[i].msg);
    }
}

//! snn_parse_quantity_frac: powers 0.5, -1.5, (1/3); dimensions in 1/SNN_DIM_DEN;
//! snn_dim_format_frac writes them back.
static void test_quantity_frac(void)
{
    const int D = SNN_DIM_DEN;
    double v;
    int dim[7];
    char err[256], buf[128];
    CHECK(snn_parse_quantity_frac("2 mV/ms**0.5", &v, dim, err, sizeof err) == 0);
    CHECK(fabs(v - 2e-3 / sqrt(1e-3)) < 1e-18);
    const int want[7] = {2 * D, D, -3 * D - D / 2, -D, 0, 0, 0};
    CHECK(!memcmp(dim, want, sizeof dim));
    snn_dim_format_frac(dim, buf, sizeof buf);
    CHECK(!strcmp(buf, "metre**2*kilogram/(second**3.5*amp)"));
    CHECK(snn_parse_quantity_frac("3 um**(-2/3)", &v, dim, err, sizeof err) == 0 && dim[0] == -2 * D / 3);
    CHECK(fabs(v - 3 * pow(1e-6, -2.0 / 3)) < 1e-9 * v);
    snn_dim_format_frac(dim, buf, sizeof buf);
    CHECK(!strcmp(buf, "1/metre**(2/3)"));
    CHECK(snn_parse_quantity_frac("20 Hz", &v, dim, err, sizeof err) == 0 && v == 20 && dim[2] == -D);
    snn_dim_format_frac(dim, buf, sizeof buf);
    CHECK(!strcmp(buf, "hertz"));
    CHECK(snn_parse_quantity_frac("1 ms**-1.5", &v, dim, err, sizeof err) == 0 && dim[2] == -3 * D / 2);
    const char *bad[] = {"1 ms**(1/13)", "1 ms**0.123", "1 ms**+2", "1 ms**x", "1 ms**(1/0)", "1 ms**100"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!CHECK(snn_parse_quantity_frac(bad[i], &v, dim, err, sizeof err) != 0))
            printf("    accepted '%s'\n", bad[i]);
    // the whole-power reader is unchanged: 0.5 is refused there
    CHECK(snn_parse_quantity("2 mV/ms**0.5", &v, dim, err, sizeof err) != 0);
}

static void test_dim_format(void)
{
    static const struct { int dim[7]; const char *want; } cases[] = {
        {{0}, "dimensionless"},
        {{2, 1, -3, -1, 0, 0, 0}, "volt"},
        {{0, 0, 1, 0, 0, 0, 0}, "second"},
        {{0, 0, -1, 0, 0, 0, 0}, "hertz"},
        {{-2, -1, 3, 2, 0, 0, 0}, "siemens"},
        {{2, 1, -3, -2, 0, 0, 0}, "ohm"},
        {{-2, -1, 4, 2, 0, 0, 0}, "farad"},
        {{0, 0, 0, 1, 0, 0, 0}, "amp"},
        {{1, 0, 0, 0, 0, 0, 0}, "metre"},
        {{0, 1, 0, 0, 0, 0, 0}, "kilogram"},
        {{2, 1, -3, 0, 0, 0, 0}, "metre**2*kilogram/second**3"},
        {{2, 1, -4, -1, 0, 0, 0}, "metre**2*kilogram/(second**4*amp)"},
        {{0, 0, -2, 0, 0, 0, 0}, "1/second**2"},
        {{-3, 0, 0, 0, 0, 1, 0}, "mole/metre**3"},
        {{-4, -1, 3, 2, 0, 0, 0}, "second**3*amp**2/(metre**4*kilogram)"},
        {{0, 0, 0, 0, 1, 0, 1}, "kelvin*candela"},
    };
    char buf[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snn_dim_format(cases[i].dim, buf, sizeof buf);
        CHECK_STR(buf, cases[i].want);
    }
    // parse and format agree
    double v;
    int dim[7];
    CHECK(snn_parse_quantity("1 mV", &v, dim, NULL, 0) == 0);
    snn_dim_format(dim, buf, sizeof buf);
    CHECK_STR(buf, "volt");
    // a short buffer truncates safely
    char small[6];
    snn_dim_format(cases[14].dim, small, sizeof small);
    CHECK(strlen(small) < sizeof small);
    snn_dim_format(cases[14].dim, small, 1);
    CHECK(small[0] == '\0');
}

/* --------------------------------------------------------- command line */

//! argv made from a '|'-separated line, in writable storage.
typedef struct { char text[2048]; char *argv[160]; int argc; } args;

static char **make_args(args *a, const char *line)
{
    snprintf(a->text, sizeof a->text, "%s", line);
    a->argc = 0;
    for (char *p = a->text;;) {
        a->argv[a->argc++] = p;
        p = strchr(p, '|');
        if (!p)
            break;
        *p++ = '\0';
    }
    a->argv[a->argc] = NULL;
    return a->argv;
}

static void test_cli(void)
{
    args a;
    snn_cli c;
    char err[256];

    CHECK(snn_cli_parse(1, make_args(&a, "model"), &c, err, sizeof err) == 0);
    CHECK_STR(c.out_dir, "results");
    CHECK(!c.has_seed && !c.quiet && !c.help && c.n_sets == 0 && c.n_datas == 0);

    make_args(&a, "model|-o|out|--seed|42|-q|--set|v=-65 mV|--set|tau=20 ms|--data|w=a.npz:w|--set|eq=a=b");
    CHECK(snn_cli_parse(a.argc, a.argv, &c, err, sizeof err) == 0);
    CHECK_STR(c.out_dir, "out");
    CHECK(c.has_seed && c.seed == 42 && c.quiet && !c.help);
    CHECK(c.n_sets == 3 && c.n_datas == 1);
    CHECK_STR(c.sets[0].name, "v");
    CHECK_STR(c.sets[0].value, "-65 mV");
    CHECK_STR(c.sets[1].name, "tau");
    CHECK_STR(c.sets[1].value, "20 ms");
    CHECK_STR(c.sets[2].name, "eq");
    CHECK_STR(c.sets[2].value, "a=b");
    CHECK_STR(c.datas[0].name, "w");
    CHECK_STR(c.datas[0].value, "a.npz:w");
    CHECK(c.sets[0].name == a.argv[7] && c.out_dir == a.argv[2]);  // pointers into argv

    make_args(&a, "model|--output=dir2|--seed=18446744073709551615|--quiet|--set=x=1|--data=d=f.npy");
    CHECK(snn_cli_parse(a.argc, a.argv, &c, err, sizeof err) == 0);
    CHECK_STR(c.out_dir, "dir2");
    CHECK(c.seed == UINT64_MAX && c.quiet);
    CHECK(c.n_sets == 1 && !strcmp(c.sets[0].name, "x") && !strcmp(c.sets[0].value, "1"));
    CHECK(c.n_datas == 1 && !strcmp(c.datas[0].value, "f.npy"));

    make_args(&a, "model|--seed|0|--help|--bogus");
    CHECK(snn_cli_parse(a.argc, a.argv, &c, err, sizeof err) == 0 && c.help && c.seed == 0);
    CHECK(snn_cli_parse(2, make_args(&a, "model|-h"), &c, err, sizeof err) == 0 && c.help);

    static const struct { const char *line, *msg; } bad[] = {
        {"model|--bogus", "unknown option '--bogus'"},
        {"model|--bogus=1", "unknown option '--bogus=1'"},
        {"model|-x", "unknown option '-x'"},
        {"model|extra", "unexpected argument 'extra'"},
        {"model|--set", "option '--set' needs a value"},
        {"model|-o", "option '-o' needs a value"},
        {"model|-o|", "non-empty"},
        {"model|--set|novalue", "--set expects NAME=VALUE, got 'novalue'"},
        {"model|--set|=1", "--set expects NAME=VALUE"},
        {"model|--set|x=", "--set expects NAME=VALUE"},
        {"model|--data|x", "--data expects NAME=PATH"},
        {"model|--quiet=1", "takes no value"},
        {"model|--seed|-1", "--seed expects an integer"},
        {"model|--seed|abc", "got 'abc'"},
        {"model|--seed|", "--seed expects"},
        {"model|--seed|1.5", "--seed expects"},
        {"model|--seed|18446744073709551616", "--seed expects"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        make_args(&a, bad[i].line);
        err[0] = '\0';
        CHECK(snn_cli_parse(a.argc, a.argv, &c, err, sizeof err) == -1);
        CHECK_HAS(err, bad[i].msg);
    }

    // at most 64 of each
    static char many[2048];
    size_t at = (size_t)snprintf(many, sizeof many, "model");
    for (int i = 0; i < 64; i++)
        at += (size_t)snprintf(many + at, sizeof many - at, "|--set|p%d=%d", i, i);
    make_args(&a, many);
    CHECK(snn_cli_parse(a.argc, a.argv, &c, err, sizeof err) == 0 && c.n_sets == 64);
    CHECK_STR(c.sets[63].name, "p63");
    snprintf(many + at, sizeof many - at, "|--set|one=more");
    make_args(&a, many);
    CHECK(snn_cli_parse(a.argc, a.argv, &c, err, sizeof err) == -1);
    CHECK_HAS(err, "too many --set options (at most 64)");
}

/* --------------------------------------------------------------- results */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = calloc(1, 1 << 16);
    if (s)
        fread(s, 1, (1 << 16) - 1, f);
    fclose(f);
    return s;
}

static void test_results(const char *out)
{
    char dir[1024], path[1024], err[512];
    const double values[6] = {1, 2, 3, 4, 5, 6}, t[2] = {0, 0.1};
    const int32_t count = 7;
    const snn_out_array arrays[] = {
        {"v.values.npy", "<f8", 2, {2, 3}, values},
        {"v.t.npy", "<f8", 1, {2, 0}, t},
        {"count.npy", "<i4", 0, {0, 0}, &count},
    };
    snn_sb m;
    snn_sb_init(&m);
    snn_sb_printf(&m, "{\"format\": \"snndsl-results/1\", \"name\": ");
    snn_sb_json_string(&m, "test \"model\"");
    snn_sb_printf(&m, ", \"dt\": ");
    snn_sb_json_double(&m, 1e-4);
    snn_sb_printf(&m, "}\n");
    CHECK(!m.failed);

    // a nested directory is created, arrays first, then the manifest
    in_dir(dir, out, "results/nested/run");
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == 0);
    char *text = slurp(in_dir(path, dir, "manifest.json"));
    CHECK_STR(text, m.s);
    free(text);
    CHECK(!file_exists(in_dir(path, dir, "manifest.json.tmp")));
    snn_array a;
    CHECK(snn_npy_read(in_dir(path, dir, "v.values.npy"), &a, err, sizeof err) == 0 && values_are(&a, values, 6));
    snn_array_free(&a);
    CHECK(snn_npy_read(in_dir(path, dir, "count.npy"), &a, err, sizeof err) == 0 && a.ndim == 0 && a.data[0] == 7);
    snn_array_free(&a);
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == 0);  // rewriting works

    // a failed rewrite leaves no manifest behind, not the stale one
    in_dir(dir, out, "results_failed");
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == 0);
    CHECK(file_exists(in_dir(path, dir, "manifest.json")));
    const snn_out_array bad_name[] = {{"../escape.npy", "<f8", 1, {2, 0}, t}};
    CHECK(snn_results_write(dir, "{}", bad_name, 1, err, sizeof err) == -1);
    CHECK_HAS(err, "'../escape.npy'");
    CHECK(!file_exists(path));
    const snn_out_array bad_dtype[] = {{"t.npy", "<f8", 1, {2, 0}, t}, {"x.npy", "<U3", 1, {2, 0}, t}};
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == 0);
    CHECK(snn_results_write(dir, "{}", bad_dtype, 2, err, sizeof err) == -1);
    CHECK_HAS(err, "'<U3'");
    CHECK(!file_exists(path));
    const snn_out_array reserved[] = {{"manifest.json", "<f8", 1, {2, 0}, t}};
    CHECK(snn_results_write(dir, "{}", reserved, 1, err, sizeof err) == -1);

    // an array cannot be written (a folder has its name): the old manifest is gone all the same
    in_dir(dir, out, "results_blocked");
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == 0);
    CHECK(remove(in_dir(path, dir, "v.t.npy")) == 0);
    CHECK(snn_mkdirs(path, err, sizeof err) == 0);
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == -1);
    CHECK_HAS(err, "v.t.npy");
    CHECK(!file_exists(in_dir(path, dir, "manifest.json")));

    // a rewrite with fewer arrays removes the old ones it does not name, and nothing else
    in_dir(dir, out, "results_fewer");
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == 0);
    FILE *mine = fopen(in_dir(path, dir, "plot.png"), "w");
    CHECK(mine != NULL);
    if (mine)
        fclose(mine);
    CHECK(snn_results_write(dir, m.s, arrays + 2, 1, err, sizeof err) == 0);
    CHECK(!file_exists(in_dir(path, dir, "v.values.npy")) && !file_exists(in_dir(path, dir, "v.t.npy")));
    CHECK(file_exists(in_dir(path, dir, "count.npy")) && file_exists(in_dir(path, dir, "plot.png")));

    // a folder of someone else's files is refused and left as it is
    in_dir(dir, out, "results_foreign");
    CHECK(snn_mkdirs(dir, err, sizeof err) == 0);
    mine = fopen(in_dir(path, dir, "notes.txt"), "w");
    CHECK(mine != NULL);
    if (mine)
        fclose(mine);
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == -1);
    CHECK_HAS(err, "it holds files snndsl did not write (notes.txt)");
    CHECK(!file_exists(in_dir(path, dir, "manifest.json")) && !file_exists(in_dir(path, dir, "count.npy")));
    mine = fopen(in_dir(path, dir, "manifest.json"), "w");  // a manifest, but not of snndsl's format
    CHECK(mine != NULL && fputs("{\"format\": \"other/1\"}\n", mine) >= 0);
    if (mine)
        fclose(mine);
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == -1);
    CHECK_HAS(err, "(manifest.json, notes.txt)");
    CHECK(snn_results_write("/", m.s, arrays, 3, err, sizeof err) == -1);
    CHECK_HAS(err, "root folder");

    // a directory that cannot be made
    FILE *f = fopen(in_dir(path, out, "a_file"), "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    in_dir(dir, out, "a_file/sub");
    CHECK(snn_results_write(dir, m.s, arrays, 3, err, sizeof err) == -1);
    CHECK_HAS(err, "a_file' exists and is not a directory");
    CHECK(snn_mkdirs(dir, err, sizeof err) == -1);
    CHECK(snn_mkdirs("", err, sizeof err) == -1);
    CHECK(snn_mkdirs(in_dir(dir, out, "m1//m2/m3/"), err, sizeof err) == 0);
    CHECK(snn_mkdirs(dir, err, sizeof err) == 0);  // exists already: fine
    CHECK(snn_results_write(in_dir(dir, out, "m1/m2/m3/m4"), m.s, NULL, 0, err, sizeof err) == 0);
    snn_sb_free(&m);
}

/* -------------------------------------------------------------- progress */

static void test_progress(void)
{
    double t0 = snn_wall_time(), t1 = snn_wall_time();
    CHECK(t1 >= t0 && t0 > 0);

    // in a terminal: one line rewritten in place, at most every 0.5 s
    snn_progress p;
    snn_progress_start(&p, 0);
    p.tty = 1;
    snn_progress_update(&p, "train", 0.1, 0.0, 1.0);
    CHECK(p.printed == 0);  // too early
    atomic_store(&p.start, atomic_load(&p.start) - 2.0);  // pretend the run has lasted 2 s
    atomic_store(&p.run_start, atomic_load(&p.run_start) - 2.0);
    snn_progress_update(&p, "train", 0.734, 0.0, 1.0);
    CHECK(p.printed > 0);
    double last = p.last;
    snn_progress_update(&p, "train", 0.8, 0.0, 1.0);
    CHECK(p.last == last);  // at most every 0.5 s
    p.last -= 0.6;
    snn_progress_update(&p, "test", 1.5, 1.0, 2.0);  // a new run: its own fraction
    CHECK(p.last > last - 0.6);
    snn_progress_info info;
    snn_progress_read(&p, &info);
    CHECK_STR(info.what, "test");
    CHECK(info.t == 1.5 && info.t_from == 1.0 && info.t_to == 2.0 && info.done == 0.5);
    CHECK(info.wall >= 2.0 && info.run_wall >= 0 && info.run_wall < 1.0);
    snn_progress_finish(&p);
    CHECK(p.printed == 0);

    snn_progress_start(&p, 0);
    p.tty = 1;
    snn_progress_fraction(&p, "connecting S", 0.1);
    CHECK(p.printed == 0);  // too early
    atomic_store(&p.start, atomic_load(&p.start) - 2.0);
    snn_progress_fraction(&p, "connecting S", 0.42);
    CHECK(p.printed > 0);
    snn_progress_read(&p, &info);
    CHECK_STR(info.what, "connecting S");
    CHECK(info.done == 0.42);
    snn_progress_finish(&p);

    // not a terminal (a log file): plain lines, the first after 1 s, then every 10 s
    snn_progress_start(&p, 0);
    p.tty = 0;
    snn_progress_update(&p, "log", 0.0, 0.0, 1.0);  // the run begins
    CHECK(!p.shown);
    atomic_store(&p.start, atomic_load(&p.start) - 2.0);
    atomic_store(&p.run_start, atomic_load(&p.run_start) - 2.0);
    snn_progress_update(&p, "log", 0.25, 0.0, 1.0);
    last = p.last;
    CHECK(p.printed == 0 && p.shown);  // printed, not in place
    p.last -= 5;
    snn_progress_update(&p, "log", 0.3, 0.0, 1.0);
    CHECK(p.last == last - 5);  // not yet: every 10 s
    p.last -= 6;
    snn_progress_update(&p, "log", 0.5, 0.0, 1.0);
    CHECK(p.last > last - 5);
    snn_progress_finish(&p);

    // quiet: nothing printed, but what is being done is still known
    snn_progress_start(&p, 1);
    atomic_store(&p.start, atomic_load(&p.start) - 10);
    snn_progress_fraction(&p, "connecting quietly", 0.5);
    snn_progress_update(&p, "quiet", 1.0, 0.0, 2.0);
    snn_progress_finish(&p);
    CHECK(p.printed == 0);
    snn_progress_read(&p, &info);
    CHECK_STR(info.what, "quiet");
    CHECK(info.done == 0.5);
}

static void test_snapshot_checks(void)
{
    // the CRC-64/XZ check value, and every single-bit flip of a block changes it
    CHECK(snn_crc64("123456789", 9) == UINT64_C(0x995DC9BBDF1939FA));
    CHECK(snn_crc64("", 0) == 0);
    unsigned char block[64];
    for (int k = 0; k < 64; k++) block[k] = (unsigned char)(k * 37);
    uint64_t good = snn_crc64(block, sizeof block);
    int missed = 0;
    for (int bit = 0; bit < 64 * 8; bit++) {
        block[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        missed += snn_crc64(block, sizeof block) == good;
        block[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    CHECK(missed == 0);

    const int32_t a32[] = {0, 3, 2, 4};
    CHECK(snn_check_range_i32(a32, 4, 0, 5) == -1);
    CHECK(snn_check_range_i32(a32, 4, 0, 4) == 3);
    CHECK(snn_check_range_i32(a32, 0, 0, 0) == -1);
    const int64_t a64[] = {-1, 0};
    CHECK(snn_check_range_i64(a64, 2, 0, 9) == 0);
    const int64_t starts[] = {0, 2, 2, 5}, falls[] = {0, 3, 2, 5}, late[] = {1, 2, 2, 5};
    CHECK(snn_check_offsets(starts, 3, 5) == -1);
    CHECK(snn_check_offsets(starts, 3, 6) == 3);
    CHECK(snn_check_offsets(falls, 3, 5) == 2);
    CHECK(snn_check_offsets(late, 3, 5) == 0);
    const int64_t steps[] = {1, 1, 2, 2, 2, 7}, unsorted[] = {3, 1};
    CHECK(snn_check_steps(steps, 6, 3) == -1);
    CHECK(snn_check_steps(steps, 6, 2) == 4);
    CHECK(snn_check_steps(unsorted, 2, 5) == 1);
    const int32_t ring[] = {0, 1, 2, 9, 9, 9};
    const int64_t lens[] = {3, 0}, bad_lens[] = {3, 4};
    CHECK(snn_check_ring(ring, lens, 2, 3) == -1);
    CHECK(snn_check_ring(ring, bad_lens, 2, 3) == 1);
    snn_buf slots[2];
    snn_buf_init(&slots[0], sizeof(int32_t));
    snn_buf_init(&slots[1], sizeof(int32_t));
    int32_t x = 4;
    CHECK(snn_buf_push(&slots[1], &x) == 0);
    CHECK(snn_check_slots(slots, 2, 5) == -1);
    CHECK(snn_check_slots(slots, 2, 4) == 1);
    snn_buf_free(&slots[0]);
    snn_buf_free(&slots[1]);
}

/* --------------------------------------- snn_support.h: floor division */

static void test_floordiv(void)
{
    // Python's values: 7 // 2, -7 // 2, 7 // -2, -7 // -2; 0 for a zero divisor
    CHECK(snn_ifloordiv(7, 2) == 3 && snn_ifloordiv(-7, 2) == -4);
    CHECK(snn_ifloordiv(7, -2) == -4 && snn_ifloordiv(-7, -2) == 3);
    CHECK(snn_ifloordiv(6, 3) == 2 && snn_ifloordiv(-6, 3) == -2 && snn_ifloordiv(0, -5) == 0);
    CHECK(snn_ifloordiv(5, 0) == 0 && snn_ifloordiv(INT64_MIN, -1) == INT64_MAX);
    // CPython's float floor division, not floor(x / y): 1 // 0.1 is 9.0
    CHECK(snn_ffloordiv(1.0, 0.1) == 9.0 && floor(1.0 / 0.1) == 10.0);
    CHECK(snn_ffloordiv(-7.5, 2.0) == -4.0 && snn_ffloordiv(7.5, -2.0) == -4.0);
    CHECK(snn_ffloordiv(-7.5, -2.0) == 3.0 && snn_ffloordiv(0.3, 0.1) == 2.0);
    CHECK(snn_ffloordiv(-0.0, 1.0) == 0.0 && signbit(snn_ffloordiv(-0.0, 1.0)));
    CHECK(isinf(snn_ffloordiv(1.0, 0.0)) && isnan(snn_ffloordiv(0.0, 0.0)));
}

/* --------------------------------------- snn_support.h: clip, time steps */

static void test_clip(void)
{
    CHECK(snn_clip(0.25, 0, 1) == 0.25);         // inside: unchanged
    CHECK(snn_clip(-2.5, 0, 1) == 0);            // below: the lower bound
    CHECK(snn_clip(3.5, 0, 1) == 1);             // above: the upper bound
    CHECK(snn_clip(0, 0, 1) == 0);               // at the bounds
    CHECK(snn_clip(1, 0, 1) == 1);
    CHECK(snn_clip(-0.065, -0.07, -0.05) == -0.065);
    CHECK(snn_clip(-0.08, -0.07, -0.05) == -0.07);
    CHECK(snn_clip(-0.01, -0.07, -0.05) == -0.05);
    CHECK(snn_clip(nextafter(1.0, 2.0), 0, 1) == 1);  // one ulp past a bound
    CHECK(snn_clip(nextafter(0.0, -1.0), 0, 1) == 0);
    CHECK(snn_clip(INFINITY, 0, 1) == 1);
    CHECK(snn_clip(-INFINITY, 0, 1) == 0);
    CHECK(snn_clip(5, 2, 2) == 2 && snn_clip(-5, 2, 2) == 2);  // lo == hi
    CHECK(snn_clip(7, -INFINITY, INFINITY) == 7);
    CHECK(isnan(snn_clip(NAN, 0, 1)));           // documented: NaN passes through, as Brian2's _clip
    CHECK(signbit(snn_clip(-0.0, 0, 1)));        // -0 is not < 0: passes through as Brian2's _clip
}

static void test_timestep(void)
{
    // Brian2's Clock._calc_timestep: the nearest step when within 1e-4 dt of it, else the next one up
    const double dt = 1e-4;
    CHECK(snn_timestep(0, dt) == 0);
    CHECK(snn_timestep(1.0, dt) == 10000);       // exact multiples of dt
    CHECK(snn_timestep(0.3, 0.1) == 3);          // 0.3 / 0.1 = 2.9999999999999996: rounds, not truncates
    CHECK(snn_timestep(0.7, 0.1) == 7);          // 0.7 / 0.1 = 6.999999999999999
    CHECK(snn_timestep(1.1, 0.1) == 11);         // 1.1 / 0.1 = 11.000000000000002: rounds, not ceils
    CHECK(snn_timestep(0.5, 1e-4) == 5000);
    int multiples = 0;
    for (int k = 0; k <= 100000; k++) multiples += snn_timestep(k * dt, dt) == k;
    CHECK(multiples == 100001);
    for (int k = 0; k <= 1000; k++) multiples -= snn_timestep(k * 0.1, 0.1) == k;
    CHECK(multiples == 100001 - 1001);
    // just below and just above a multiple: within 1e-4 dt it is that step
    CHECK(snn_timestep(5 * dt - 0.5e-4 * dt, dt) == 5);
    CHECK(snn_timestep(5 * dt + 0.5e-4 * dt, dt) == 5);
    CHECK(snn_timestep(5 * dt + 0.9e-4 * dt, dt) == 5);
    // beyond 1e-4 dt: the next step up (a time between two steps is reached at the later one)
    CHECK(snn_timestep(5 * dt + 1.1e-4 * dt, dt) == 6);
    CHECK(snn_timestep(5 * dt + 0.4 * dt, dt) == 6);   // round() would give 5
    CHECK(snn_timestep(5 * dt + 0.5 * dt, dt) == 6);
    CHECK(snn_timestep(5 * dt + 0.9 * dt, dt) == 6);
    CHECK(snn_timestep(5 * dt - 1e-3 * dt, dt) == 5);   // below, but not within 1e-4: still up, to 5
    CHECK(snn_timestep(5 * dt - 0.6 * dt, dt) == 5);   // 4.4 steps: the next step up is 5, not 4
    CHECK(snn_timestep(0.25, 0.1) == 3);
    CHECK(snn_timestep(-0.25, 0.1) == -2);      // negative times round up too (toward +inf)
    CHECK(snn_timestep(-0.3, 0.1) == -3);
    // large t: exact up to SNN_MAX_STEPS, saturating (never undefined) past it
    CHECK(snn_timestep(1e5, dt) == 1000000000);
    CHECK(snn_timestep(1e9, 1e-4) == INT64_C(10000000000000));
    CHECK(snn_timestep(0x1p53, 1) == SNN_MAX_STEPS);
    CHECK(snn_timestep(0x1p53 - 1, 1) == SNN_MAX_STEPS - 1);
    CHECK(snn_timestep(0x1p50 + 0.25, 1) == (INT64_C(1) << 50) + 1);  // a quarter step past: up, even this far
    CHECK(snn_timestep(1e300, dt) == SNN_STEPS_NEVER);
    CHECK(snn_timestep(INFINITY, dt) == SNN_STEPS_NEVER);
    CHECK(snn_timestep(-INFINITY, dt) == -SNN_STEPS_NEVER);
    CHECK(snn_timestep(NAN, dt) == SNN_STEPS_NEVER);   // snn_steps: nan reads as +2**54
    CHECK(snn_timestep(1, 1e-320) == SNN_STEPS_NEVER);  // 1e320 steps
}

static void test_elapsed_steps(void)
{
    // Brian2's timestep(t, dt) = int((t + 1e-3 dt) / dt): whole steps in a duration, truncated
    const double dt = 1e-4;
    CHECK(snn_elapsed_steps(0, dt) == 0);
    CHECK(snn_elapsed_steps(5e-3, dt) == 50);          // 5 ms refractory period at dt = 0.1 ms
    CHECK(snn_elapsed_steps(0.3, 0.1) == 3);           // 0.3 / 0.1 = 2.9999999999999996: never short
    CHECK(snn_elapsed_steps(0.7, 0.1) == 7);
    CHECK(snn_elapsed_steps(1.1, 0.1) == 11);
    int multiples = 0;
    for (int k = 0; k <= 100000; k++) multiples += snn_elapsed_steps(k * dt, dt) == k;
    for (int k = 0; k <= 1000; k++) multiples += snn_elapsed_steps(k * 0.1, 0.1) == k;
    CHECK(multiples == 100001 + 1001);
    // just below a multiple: within the 1e-3 dt shift it counts, beyond it it does not
    CHECK(snn_elapsed_steps(3 * dt - 0.5e-3 * dt, dt) == 3);
    CHECK(snn_elapsed_steps(3 * dt - 2e-3 * dt, dt) == 2);
    CHECK(snn_elapsed_steps(3 * dt - 0.5 * dt, dt) == 2);
    // just above, up to the next multiple: truncated, not rounded
    CHECK(snn_elapsed_steps(3 * dt + 1e-6 * dt, dt) == 3);
    CHECK(snn_elapsed_steps(3 * dt + 0.5 * dt, dt) == 3);
    CHECK(snn_elapsed_steps(3 * dt + 0.9 * dt, dt) == 3);
    CHECK(snn_elapsed_steps(3 * dt + 0.9995 * dt, dt) == 4);
    CHECK(snn_elapsed_steps(-0.5 * dt, dt) == 0);      // toward zero, as Python's int()
    CHECK(snn_elapsed_steps(-5 * dt, dt) == -4);       // -4.999
    // large t: exact, then saturating
    CHECK(snn_elapsed_steps(1e4, dt) == 100000000);
    CHECK(snn_elapsed_steps(0x1p52, 1) == INT64_C(1) << 52);
    CHECK(snn_elapsed_steps(1e300, dt) == SNN_STEPS_NEVER);
    CHECK(snn_elapsed_steps(-1e300, dt) == -SNN_STEPS_NEVER);
    CHECK(snn_elapsed_steps(NAN, dt) == SNN_STEPS_NEVER);
    CHECK(snn_elapsed_steps(1e4, 1e-300) == SNN_STEPS_NEVER);  // lastspike = -1e4 s, a tiny dt

    // the documented equivalence: snn_elapsed_reaches(t, dt, R) == (snn_elapsed_steps(t, dt) >= R)
    int agree = 0, cases = 0;
    for (int k = -400; k <= 400; k++) {
        double t = k * 0.0137 * dt;  // fractions of a step, both signs
        for (int64_t r = -6; r <= 6; r++, cases++)
            agree += snn_elapsed_reaches(t, dt, r) == (snn_elapsed_steps(t, dt) >= r);
    }
    CHECK(agree == cases);

    // snn_elapsed_from: the comparison that replaces the division, for every t, at the
    // boundary ulp by ulp, for steps of both signs, dt's that are not powers of two, and
    // lastspike's that make t infinite or NaN
    const double dts[] = {1e-4, 0.1, 5e-4, 1.0 / 3.0, 1e-7, 0.0625, 7.3e-5};
    const int64_t steps[] = {-7, -1, 0, 1, 2, 3, 7, 50, 20000, 123456789};
    agree = cases = 0;
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        for (size_t q = 0; q < sizeof steps / sizeof steps[0]; q++) {
            const double from = snn_elapsed_from(dts[d], steps[q]);
            const double edge = (double)steps[q] * dts[d];
            double ts[] = {edge, edge - 1e-3 * dts[d], edge - 1.5e-3 * dts[d], edge - dts[d], INFINITY,
                           -INFINITY, NAN, 0.0, -0.0, 1e300, -1e300};
            for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
                double t = ts[k];
                for (int u = 0; u < 8; u++) t = nextafter(t, -INFINITY);
                for (int u = 0; u < 17; u++, t = nextafter(t, INFINITY), cases++)
                    agree += snn_elapsed_reaches(t, dts[d], steps[q]) == (t + 1e-3 * dts[d] >= from);
            }
            for (int k = -3000; k <= 3000; k++, cases++) {  // fractions of a step around the edge
                const double t = edge + k * 0.00071 * dts[d];
                agree += snn_elapsed_reaches(t, dts[d], steps[q]) == (t + 1e-3 * dts[d] >= from);
            }
        }
    }
    CHECK(agree == cases);
}

/* ------------------------------------------- exact integration: expm(M dt) */

//! |got - want| <= rel * |want| + abs_tol, for every entry of two n x n matrices.
static void check_matrix(const double *got, const double *want, int n, double rel, double abs_tol,
                         const char *what, int line)
{
    for (int k = 0; k < n * n; k++)
        if (!check(fabs(got[k] - want[k]) <= rel * fabs(want[k]) + abs_tol, what, line))
            printf("    entry (%d, %d): got %.17g, want %.17g\n", k / n, k % n, got[k], want[k]);
}

#define CHECK_MATRIX(got, want, n, rel, abs_tol) check_matrix((got), (want), (n), (rel), (abs_tol), #got, __LINE__)

static void test_spikegen_sort(void)
{
    char err[256];
    int64_t nsrc;
    int32_t *src_i;
    int64_t *src_step;
    const double dt = 1e-4;
    // unsorted events; ties in time sort by index; binned as int((t + 1e-3 dt) / dt)
    const double idx[] = {2, 0, 1, 0, 3, 1};
    const double t[] = {3e-4, 3e-4, 0, 5e-4 - 0.5e-3 * 1e-4, 0.29999999999999999e-3, 7e-4};
    CHECK(snn_spikegen_sort(4, idx, 6, t, 6, dt, "G", "m.snn:2:1", &nsrc, &src_i, &src_step, err, sizeof err) == 0);
    CHECK(nsrc == 6);
    const int32_t want_i[] = {1, 0, 2, 3, 0, 1};  // 0.29999999999999999e-3 is the double 3e-4
    const int64_t want_step[] = {0, 3, 3, 3, 5, 7};  // 4.995 steps with the 1e-3 shift: step 5
    int same = 1;
    for (int k = 0; k < 6; k++) same &= src_i[k] == want_i[k] && src_step[k] == want_step[k];
    CHECK(same);
    free(src_i);
    free(src_step);
    // none: valid, nothing to emit
    CHECK(snn_spikegen_sort(4, idx, 0, t, 0, dt, "G", "s", &nsrc, &src_i, &src_step, err, sizeof err) == 0);
    CHECK(nsrc == 0 && src_i != NULL && src_step != NULL);
    free(src_i);
    free(src_step);
    // refused, with the place and the reason; nothing is left allocated
    CHECK(snn_spikegen_sort(4, idx, 6, t, 5, dt, "G", "m.snn:2:1", &nsrc, &src_i, &src_step, err, sizeof err) == -1);
    CHECK_HAS(err, "m.snn:2:1: error[E0601]: spikes group 'G' has 6 indices but 5 times");
    CHECK(src_i == NULL && src_step == NULL && nsrc == 0);
    const double bad_idx[] = {0, 4};
    CHECK(snn_spikegen_sort(4, bad_idx, 2, t, 2, dt, "G", "s", &nsrc, &src_i, &src_step, err, sizeof err) == -1);
    CHECK_HAS(err, "index 4 (entry 1) is not an integer in [0, 4)");
    const double half[] = {0.5};
    CHECK(snn_spikegen_sort(4, half, 1, t, 1, dt, "G", "s", &nsrc, &src_i, &src_step, err, sizeof err) == -1);
    CHECK_HAS(err, "index 0.5 (entry 0)");
    const double neg[] = {1e-3, -1e-9}, two[] = {0, 1};
    CHECK(snn_spikegen_sort(4, two, 2, neg, 2, dt, "G", "s", &nsrc, &src_i, &src_step, err, sizeof err) == -1);
    CHECK_HAS(err, "time -1e-09 s (entry 1) is negative");
    const double nan_t[] = {NAN};
    CHECK(snn_spikegen_sort(4, two, 1, nan_t, 1, dt, "G", "s", &nsrc, &src_i, &src_step, err, sizeof err) == -1);
    // one neuron twice in one step (0.2 and 0.25 steps apart from step 3)
    const double twice_t[] = {3.2e-4, 3.25e-4}, zeros[] = {1, 1};
    CHECK(snn_spikegen_sort(4, zeros, 2, twice_t, 2, dt, "G", "s", &nsrc, &src_i, &src_step, err, sizeof err) == -1);
    CHECK_HAS(err, "neuron 1 spikes twice in the time step at 0.0003 s; use a smaller dt");
    CHECK(src_i == NULL && src_step == NULL);
}

static void test_connect_pairs(void)
{
    char err[256];
    int64_t nsyn;
    int32_t *pre, *post;
    double pairs[] = {2, 0, 0, 1, 2, 1, 2, 0};  // kept in this order, repeats included
    snn_array a = {pairs, 2, {4, 2}, 8};
    CHECK(snn_connect_pairs(&a, 3, 2, "d", "m.snn:5:5", &nsyn, &pre, &post, err, sizeof err) == 0);
    CHECK(nsyn == 4 && pre[0] == 2 && post[0] == 0 && pre[1] == 0 && post[1] == 1 && pre[3] == 2 && post[3] == 0);
    free(pre);
    free(post);
    CHECK(snn_connect_pairs(&a, 2, 2, "d", "m.snn:5:5", &nsyn, &pre, &post, err, sizeof err) == -1);
    CHECK_HAS(err, "m.snn:5:5: error[E0601]: data 'd' row 0: (2, 0) is not a pair of indices in [0, 2) x [0, 2)");
    CHECK(pre == NULL && post == NULL && nsyn == 0);
    pairs[3] = 0.5;
    CHECK(snn_connect_pairs(&a, 3, 2, "d", "s", &nsyn, &pre, &post, err, sizeof err) == -1);
    CHECK_HAS(err, "row 1: (0, 0.5)");
    snn_array flat = {pairs, 1, {8}, 8};
    CHECK(snn_connect_pairs(&flat, 3, 2, "d", "s", &nsyn, &pre, &post, err, sizeof err) == -1);
    CHECK_HAS(err, "data 'd' must have shape (n, 2)");
}

static void test_index_synapses(void)
{
    char err[256];
    // 5 synapses of 3 -> 2 neurons, in no particular order
    const int32_t pre[] = {2, 0, 2, 1, 0}, post[] = {1, 1, 0, 0, 0};
    int64_t *ps, *qs;
    int32_t *psyn, *qsyn, *pother, *qother;
    CHECK(snn_index_synapses(5, pre, post, 3, 2, &ps, &psyn, &pother, &qs, &qsyn, &qother, err, sizeof err) == 0);
    const int64_t want_ps[] = {0, 2, 3, 5};
    const int32_t want_psyn[] = {1, 4, 3, 0, 2};
    const int64_t want_qs[] = {0, 3, 5};
    const int32_t want_qsyn[] = {2, 3, 4, 0, 1};
    int same = 1;
    for (int k = 0; k < 4; k++) same &= ps[k] == want_ps[k];
    for (int k = 0; k < 3; k++) same &= qs[k] == want_qs[k];
    for (int k = 0; k < 5; k++) {
        same &= psyn[k] == want_psyn[k] && qsyn[k] == want_qsyn[k];
        same &= pother[k] == post[psyn[k]] && qother[k] == pre[qsyn[k]];  // the far end, beside each
    }
    CHECK(same);
    free(ps); free(psyn); free(pother); free(qs); free(qsyn); free(qother);
    // no synapses: empty lists, every neuron's range empty
    CHECK(snn_index_synapses(0, pre, post, 3, 2, &ps, &psyn, &pother, &qs, &qsyn, &qother, err, sizeof err) == 0);
    CHECK(ps[0] == 0 && ps[3] == 0 && qs[2] == 0);
    free(ps); free(psyn); free(pother); free(qs); free(qsyn); free(qother);
    // numbered in presynaptic order: no presynaptic lists, the ranges themselves
    const int32_t sorted_pre[] = {0, 0, 1, 2, 2}, sorted_post[] = {1, 0, 0, 1, 0};
    CHECK(snn_index_synapses(5, sorted_pre, sorted_post, 3, 2, &ps, NULL, NULL, &qs, &qsyn, &qother, err,
                             sizeof err) == 0);
    const int64_t want_sorted_ps[] = {0, 2, 3, 5};
    same = 1;
    for (int k = 0; k < 4; k++) same &= ps[k] == want_sorted_ps[k];
    for (int k = 0; k < 5; k++) same &= sorted_post[qsyn[k]] == (k < 3 ? 0 : 1) && qother[k] == sorted_pre[qsyn[k]];
    CHECK(same);
    free(ps); free(qs); free(qsyn); free(qother);
    // ... which they must be: an internal error, not a wrong answer
    CHECK(snn_index_synapses(5, pre, post, 3, 2, &ps, NULL, NULL, &qs, &qsyn, &qother, err, sizeof err) == -1);
    CHECK(strstr(err, "synapse 1 is not in presynaptic order") != NULL);
    // more synapses than int32 numbers: refused before any allocation
    CHECK(snn_index_synapses(SNN_MAX_SYNAPSES + 1, pre, post, 3, 2, &ps, &psyn, &pother, &qs, &qsyn, &qother, err,
                             sizeof err) == -1);
    CHECK(strstr(err, "2147483648 synapses in one group") != NULL);
}

//! The calendar against a scan of every source: the same sources due in each
//! step, in ascending order, over many laps of its slots, with sources that
//! are never due, several due in one step, and a rebuild in the middle (which
//! files only the sources due at or after `now`).
static void calendar_against_scan(int64_t n, int64_t spread, int64_t steps, uint64_t seed)
{
    char err[256];
    snn_rng r;
    snn_rng_seed(&r, seed, 0);
    int64_t *next = calloc((size_t)n, sizeof *next);
    int32_t *due = calloc((size_t)n, sizeof *due), *want = calloc((size_t)n, sizeof *want);
    for (int64_t i = 0; i < n; i++)
        next[i] = i % 7 == 3 ? SNN_STEPS_NEVER : (int64_t)(snn_rng_uniform(&r) * (double)spread);
    snn_calendar c = {0};
    CHECK(snn_calendar_build(&c, n, next, 0, err, sizeof err) == 0);
    CHECK(c.nslots >= 64 && c.nslots >= (n < (1 << 20) ? n : 1 << 20) && !(c.nslots & (c.nslots - 1)));
    int same = 1;
    int64_t total = 0;
    for (int64_t step = 0; step < steps; step++) {
        if (step == steps / 2) {  /* as at the start of a run: stale entries gone, past ones not filed */
            next[0] = step - 5;
            CHECK(snn_calendar_build(&c, n, next, step, err, sizeof err) == 0);
        }
        const int64_t got = snn_calendar_due(&c, step, next, due);
        int64_t expect = 0;
        for (int64_t i = 0; i < n; i++)
            if (next[i] == step) want[expect++] = (int32_t)i;
        same &= got == expect;
        for (int64_t k = 0; k < got && k < expect; k++) same &= due[k] == want[k];
        total += got;
        for (int64_t k = 0; k < got; k++) {
            const int32_t i = due[k];
            next[i] = step + 1 + (int64_t)(snn_rng_uniform(&r) * (double)spread);
            CHECK(snn_calendar_add(&c, i, next[i], err, sizeof err) == 0);
        }
    }
    CHECK(same);
    CHECK(total > steps / spread);  /* it did emit */
    snn_calendar_free(&c);
    CHECK(c.slot == NULL && c.nslots == 0);
    free(next);
    free(due);
    free(want);
}

static void test_calendar(void)
{
    calendar_against_scan(1, 200, 5000, 1);        /* one source, many laps of 64 slots */
    calendar_against_scan(100, 3, 2000, 2);        /* several due in most steps */
    calendar_against_scan(300, 1000, 20000, 3);    /* sparse: most slots empty, later laps filed */
    calendar_against_scan(5000, 40000, 30000, 4);  /* more sources than slots fill in one lap */
    /* a step past the last one is never due, and not filed */
    char err[256];
    snn_calendar c = {0};
    int64_t next[1] = {SNN_STEPS_NEVER};
    int32_t due[1];
    CHECK(snn_calendar_build(&c, 1, next, 0, err, sizeof err) == 0);
    int64_t filed = 0;
    for (int64_t k = 0; k < c.nslots; k++) filed += (int64_t)c.slot[k].len;
    CHECK(filed == 0);
    CHECK(snn_calendar_due(&c, SNN_STEPS_NEVER, next, due) == 0);
    snn_calendar_free(&c);
}

static void test_zalloc(void)
{
    /* large enough to be advised huge pages (where the kernel has them): zeroed, writable, freeable */
    const int64_t n = (INT64_C(9) << 20) / 8;
    double *a = snn_zalloc(n, sizeof *a);
    CHECK(a != NULL);
    int zero = 1;
    for (int64_t k = 0; k < n; k += 511) zero &= a[k] == 0.0;
    CHECK(zero && a[n - 1] == 0.0);
    a[n - 1] = 1.0;
    free(a);
    void *one = snn_zalloc(0, 8);  /* never NULL for an empty array */
    CHECK(one != NULL);
    free(one);
}

static void test_exact_factors(void)
{
    double E[4], F[4], Eref[4], Fref[4];

    // 1x1: x' = -x / tau + c. E = exp(-dt / tau), F = tau (1 - exp(-dt / tau))
    const double tau = 20e-3, dt = 1e-4;
    const double m1[1] = {-1 / tau};
    const int free1[1] = {0}, frozen1[1] = {1};
    CHECK(snn_exact_factors(1, m1, free1, dt, E, F, Eref, Fref) == 0);
    CHECK_NEAR(E[0], exp(-dt / tau), 1e-15);
    CHECK_NEAR(F[0], -tau * expm1(-dt / tau), 1e-19);
    CHECK_NEAR(Eref[0], exp(-dt / tau), 1e-15);     // nothing frozen: the same
    CHECK_NEAR(Fref[0], F[0], 0);
    CHECK(snn_exact_factors(1, m1, frozen1, dt, E, F, Eref, Fref) == 0);
    CHECK_NEAR(E[0], exp(-dt / tau), 1e-15);        // E, F never see `frozen`
    CHECK(Eref[0] == 1 && Fref[0] == 0);              // held: x(t + dt) = x

    // a stiff one: |M dt| = 100, many squarings; E = exp(-100) relative to 1e-10
    const double stiff[1] = {-1000};
    CHECK(snn_exact_factors(1, stiff, free1, 0.1, E, F, Eref, Fref) == 0);
    CHECK_NEAR(E[0] / exp(-100), 1, 1e-10);
    CHECK_NEAR(F[0], -expm1(-100) / 1000, 1e-15);
    // growth: x' = x over dt = 3
    const double grow[1] = {1};
    CHECK(snn_exact_factors(1, grow, free1, 3, E, F, Eref, Fref) == 0);
    CHECK_NEAR(E[0], exp(3), 1e-12 * exp(3));
    CHECK_NEAR(F[0], expm1(3), 1e-12 * exp(3));
    // zero: E = 1, F = dt
    const double zero[1] = {0};
    CHECK(snn_exact_factors(1, zero, free1, dt, E, F, Eref, Fref) == 0);
    CHECK(E[0] == 1);
    CHECK_NEAR(F[0], dt, 1e-20);

    // 2x2, CUBA's membrane and current: v' = (g - v) / taum, g' = -g / taue (a = 1/taum, b = 1/taue).
    // v(t) = v0 e^-at + a g0 (e^-bt - e^-at) / (a - b), g(t) = g0 e^-bt.
    const double taum = 20e-3, taue = 5e-3, a = 1 / taum, b = 1 / taue, h = 1e-4;
    const double m2[4] = {-a, a, 0, -b};
    const double ea = exp(-a * h), eb = exp(-b * h), ia = -expm1(-a * h) / a, ib = -expm1(-b * h) / b;
    const double E2[4] = {ea, a * (eb - ea) / (a - b), 0, eb};
    const double F2[4] = {ia, a / (a - b) * (ib - ia), 0, ib};
    const int none[2] = {0, 0}, v_frozen[2] = {1, 0}, g_frozen[2] = {0, 1};
    CHECK(snn_exact_factors(2, m2, v_frozen, h, E, F, Eref, Fref) == 0);
    CHECK_MATRIX(E, E2, 2, 1e-12, 1e-16);
    CHECK_MATRIX(F, F2, 2, 1e-12, 1e-20);
    // v held (unless refractory): its row is the identity row and no input; g decays on
    const double E2v[4] = {1, 0, 0, eb}, F2v[4] = {0, 0, 0, ib};
    CHECK_MATRIX(Eref, E2v, 2, 1e-12, 0);
    CHECK_MATRIX(Fref, F2v, 2, 1e-12, 0);
    CHECK(Eref[0] == 1 && Eref[1] == 0 && Fref[0] == 0 && Fref[1] == 0);  // exactly
    // g held: v goes on relaxing towards the (now constant) g
    CHECK(snn_exact_factors(2, m2, g_frozen, h, E, F, Eref, Fref) == 0);
    const double E2g[4] = {ea, 1 - ea, 0, 1}, F2g[4] = {ia, 0, 0, 0};
    CHECK_MATRIX(Eref, E2g, 2, 1e-12, 1e-16);
    CHECK_MATRIX(Fref, F2g, 2, 1e-12, 1e-20);
    CHECK(snn_exact_factors(2, m2, none, h, E, F, Eref, Fref) == 0);
    CHECK_MATRIX(Eref, E2, 2, 1e-12, 1e-16);
    CHECK_MATRIX(Fref, F2, 2, 1e-12, 1e-20);

    // 2x2 with coupling both ways: x' = w y, y' = -w x, a rotation by w dt
    const double w = 2 * 3.14159265358979323846 * 50, k = 2e-3;  // 50 Hz, 2 ms: 0.2 turns
    const double rot[4] = {0, w, -w, 0};
    const double c = cos(w * k), s = sin(w * k);
    const double Er[4] = {c, s, -s, c}, Fr[4] = {s / w, (1 - c) / w, -(1 - c) / w, s / w};
    CHECK(snn_exact_factors(2, rot, none, k, E, F, Eref, Fref) == 0);
    CHECK_MATRIX(E, Er, 2, 1e-12, 1e-14);
    CHECK_MATRIX(F, Fr, 2, 1e-12, 1e-16);

    // a factor that is not finite is an error, not a table of inf
    const double huge[1] = {1e3}, inf1[1] = {INFINITY}, nan1[1] = {NAN};
    CHECK(snn_exact_factors(1, huge, free1, 10, E, F, Eref, Fref) == -1);  // exp(1e4)
    CHECK(snn_exact_factors(1, inf1, free1, dt, E, F, Eref, Fref) == -1);
    CHECK(snn_exact_factors(1, nan1, free1, dt, E, F, Eref, Fref) == -1);
}

static void test_exact_diagonal(void)
{
    // uncoupled rows: each its closed form, the same factors as the matrix exponential's
    const double dt = 1e-3;
    const double M[9] = {-40, 7, 7, 7, 0, 7, 7, 7, 3.5};  // only the diagonal is read
    const double Md[9] = {-40, 0, 0, 0, 0, 0, 0, 0, 3.5};
    const int none[3] = {0, 0, 0}, held[3] = {0, 1, 0};
    double E[9], F[9], Ex[9], Fx[9];
    CHECK(snn_exact_diagonal(3, M, none, dt, E, F) == 0);
    CHECK(snn_exact_step(3, Md, none, dt, Ex, Fx) == 0);
    CHECK_MATRIX(E, Ex, 3, 1e-14, 1e-16);
    CHECK_MATRIX(F, Fx, 3, 1e-14, 1e-19);
    CHECK(E[0] == exp(-40 * dt) && F[0] == expm1(-40 * dt) / (-40 * dt) * dt);
    CHECK(E[4] == 1 && F[4] == dt);                         // a = 0: x' = c
    CHECK(E[1] == 0 && F[1] == 0 && E[3] == 0);             // nothing off the diagonal
    CHECK(snn_exact_diagonal(3, M, held, dt, E, F) == 0);
    CHECK(E[4] == 1 && F[4] == 0);                          // held: x(t + dt) = x
    CHECK(snn_exact_step(3, Md, held, dt, Ex, Fx) == 0);
    CHECK_MATRIX(E, Ex, 3, 1e-14, 1e-16);
    const double huge[1] = {1e3}, nan1[1] = {NAN};
    CHECK(snn_exact_diagonal(1, huge, NULL, 10, E, F) == -1);  // exp(1e4)
    CHECK(snn_exact_diagonal(1, nan1, NULL, dt, E, F) == -1);
}

int main(int argc, char **argv)
{
    test_rng();
    test_philox();
    test_buf();
    test_choose();
    test_sb();
    test_quantity();
    test_dim_format();
    test_quantity_frac();
    test_cli();
    test_progress();
    test_snapshot_checks();
    test_clip();
    test_floordiv();
    test_timestep();
    test_elapsed_steps();
    test_exact_factors();
    test_exact_diagonal();
    test_spikegen_sort();
    test_connect_pairs();
    test_index_synapses();
    test_calendar();
    test_zalloc();
    if (argc >= 3) {
        test_npy_fixtures(argv[1]);
        test_npy_write(argv[2]);
        test_results(argv[2]);
    } else {
        printf("no FIXTURES OUT arguments: file tests skipped\n");
    }
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
