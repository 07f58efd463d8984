/* snn_main.c: main() of every generated model binary.
 *
 * The same for all models: it parses the command line (snn_cli_parse),
 * drives the simulation through snn_api.h only, and writes the results.
 * Ctrl-C and SIGTERM ask the simulation to stop at the end of the current
 * step; what was recorded so far is written, marked "interrupted".
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "snn_runtime.h"
#include "snn_api.h"

#ifdef SNN_MPI
/* Built for ranks (snndsl run --ranks N; mpiexec -n N model ...): every rank
 * runs main; rank 0 alone reports and writes the results. */
#include <mpi.h>
#endif

/* The one process-wide variable: a signal handler has no other way in. */
static snn_sim *volatile snn_running_sim = NULL;

static void snn_on_signal(int sig)
{
    (void)sig;
    if (snn_running_sim) snn_sim_request_stop(snn_running_sim);
}

static void snn_usage(FILE *f)
{
    fprintf(f, "usage: %s [-o RESULTS] [--set NAME=VALUE]... [--data NAME=PATH]... [--seed N] [--threads N] "
               "[--quiet]\n"
               "Runs the snndsl model '%s' and writes RESULTS (default: results/).\n",
            "model", snn_model_name());
}

static int snn_main(int argc, char **argv, int rank);
/* Why snn_main failed ("" when it did not, or when another rank failed and
 * reports it), and whether the usage follows: printed at the end, once the
 * ranks have agreed which of them report. */
static char snn_error[2048];
static int snn_error_usage;

static void snn_report(int rank)
{
    if (!snn_error[0]) return;
    if (rank > 0) fprintf(stderr, "rank %d: ", rank);
    fprintf(stderr, "%s\n", snn_error);
    if (snn_error_usage) snn_usage(stderr);
}

int main(int argc, char **argv)
{
#ifdef SNN_MPI
    int provided = 0, rank = 0, rank0_reports = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    snn_rank_init();
    int rc = snn_main(argc, argv, rank);
    rc = snn_rank_settle(rc, snn_error[0] != 0, rank, &rank0_reports);
    if (rank == 0 || !rank0_reports) snn_report(rank);  /* an error every rank has: rank 0's words alone */
    snn_rank_finish();
    MPI_Finalize();
    return rc;
#else
    int rc = snn_main(argc, argv, 0);
    snn_report(0);
    return rc;
#endif
}

static int snn_main(int argc, char **argv, int rank)
{
    snn_cli cli;
    char msg[1024];
    if (snn_cli_parse(argc, argv, &cli, msg, sizeof msg)) {
        snprintf(snn_error, sizeof snn_error, "model: error[E0601]: %s", msg);
        snn_error_usage = 1;
        return 1;
    }
    if (cli.help) {
        if (rank == 0) snn_usage(stdout);  /* once, however many ranks */
        return 0;
    }
    snn_sim *sim = snn_sim_new();
    if (!sim) {
        snprintf(snn_error, sizeof snn_error, "model: error: out of memory");
        return 1;
    }
    int rc = 0;
    for (size_t k = 0; k < cli.n_sets && rc == 0; k++)
        rc = snn_sim_set_param(sim, cli.sets[k].name, cli.sets[k].value);
    for (size_t k = 0; k < cli.n_datas && rc == 0; k++)
        rc = snn_sim_set_data(sim, cli.datas[k].name, cli.datas[k].value);
    if (cli.has_seed) snn_sim_set_seed(sim, cli.seed);
    snn_sim_set_quiet(sim, cli.quiet);
    if (rc == 0) rc = snn_sim_set_threads(sim, cli.threads);
    int interrupted = 0;
    if (rc == 0) {
        snn_running_sim = sim;
        signal(SIGINT, snn_on_signal);
        signal(SIGTERM, snn_on_signal);
#ifdef SNN_MPI
        signal(SIGUSR1, snn_on_signal);  /* mpiexec passes it on to every rank, and kills none */
#endif
        rc = snn_sim_run(sim);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
#ifdef SNN_MPI
        signal(SIGUSR1, SIG_DFL);
#endif
        snn_running_sim = NULL;
        interrupted = snn_sim_interrupted(sim);
        if ((rc == 0 || interrupted) && rank != 0) {
            /* the results are rank 0's to write */
        } else if (rc == 0 || interrupted) {
            if (snn_sim_write_results(sim, cli.out_dir) == 0) {
                if (!cli.quiet)
                    fprintf(stderr, "[snndsl] %s: results in %s%s\n", interrupted ? "interrupted" : "done",
                            cli.out_dir, cli.out_dir[strlen(cli.out_dir) - 1] == '/' ? "" : "/");
            } else {
                rc = -1;
                interrupted = 0;
            }
        }
    }
    if (rc) snprintf(snn_error, sizeof snn_error, "%s", snn_sim_error(sim));
    snn_sim_free(sim);
    return interrupted ? 130 : rc ? 1 : 0;
}
