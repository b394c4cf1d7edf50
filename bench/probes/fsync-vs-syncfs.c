/*
 * How long does it take to make N files' fresh appends durable: one fdatasync per file (serially,
 * or from T threads at once) versus one syncfs(2) for the whole filesystem? Each round appends
 * 2 KiB to each of N files, times the fdatasyncs, appends again and times one syncfs.
 *
 *   gcc -O2 -pthread -o /tmp/fsync-vs-syncfs bench/probes/fsync-vs-syncfs.c
 *   /tmp/fsync-vs-syncfs <dir on the data filesystem> <files> <threads (1 = serial)>
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int files, threads;
static int *fds;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void *sync_share(void *arg) {
  for (long i = (long)arg; i < files; i += threads) fdatasync(fds[i]);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s DIR FILES THREADS\n", argv[0]);
    return 2;
  }
  files = atoi(argv[2]);
  threads = atoi(argv[3]);
  if (threads < 1 || threads > 256) threads = 1;
  char chunk[2048];
  memset(chunk, 7, sizeof chunk);
  fds = calloc(files, sizeof *fds);
  long *ends = calloc(files, sizeof *ends);
  for (int i = 0; i < files; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/probe-%d", argv[1], i);
    fds[i] = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fds[i] < 0) {
      perror(path);
      return 1;
    }
  }
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < files; i++) ends[i] += pwrite(fds[i], chunk, sizeof chunk, ends[i]);
    double t0 = now_us();
    pthread_t tids[256];
    for (long k = 0; k < threads; k++) pthread_create(&tids[k], NULL, sync_share, (void *)k);
    for (int k = 0; k < threads; k++) pthread_join(tids[k], NULL);
    double t1 = now_us();
    for (int i = 0; i < files; i++) ends[i] += pwrite(fds[i], chunk, sizeof chunk, ends[i]);
    double t2 = now_us();
    syncfs(fds[0]);
    double t3 = now_us();
    printf("files %d, threads %d: fdatasync each %.0f us, one syncfs %.0f us\n", files, threads, t1 - t0, t3 - t2);
  }
  for (int i = 0; i < files; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/probe-%d", argv[1], i);
    close(fds[i]);
    unlink(path);
  }
  return 0;
}
