/*
 * test_tsan_canary.c - the host tsan flavour really detects
 * races and a report really fails a suite: a child process races two
 * threads on a plain int (and on a block from sheap, written by both
 * without a lock) and must exit with ThreadSanitizer's exit code (66, as
 * the flavour's TSAN_OPTIONS set, and its default).  The parent is not
 * instrumented into any race.  Built in the tsan flavour only.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "harness.h"
#include "sheap.h"

#ifndef __SANITIZE_THREAD__
#error "test_tsan_canary.c is for the tsan flavour (-fsanitize=thread)"
#endif

static int shared_plain;
static int *shared_block;

static void *racer(void *arg)
{
    (void)arg;
    shared_plain++;
    shared_block[0]++;
    return NULL;
}

static int race_in_child(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2); /* the expected report is not the log's business */
        shared_block = sheap_malloc(64);
        pthread_t t;
        pthread_create(&t, NULL, racer, NULL);
        shared_plain++;
        shared_block[0]++;
        pthread_join(t, NULL);
        _exit(0); /* TSan replaces the status with 66 when it reported */
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void test_race_is_reported(void)
{
    int rc = race_in_child();
    printf("  racing child exited with %d\n", rc);
    CHECK_EQ(rc, 66);
}

int main(void)
{
    RUN(test_race_is_reported);
    return harness_finish("tsan-canary");
}
