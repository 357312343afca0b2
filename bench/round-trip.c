/* round-trip.c - the floor under every queue-depth-1 probe, for bench/bench.sh: a bare TCP round trip on
 * 127.0.0.1 between two processes, the client sending 48 bytes and the server answering 48 + 4096 (an iSCSI
 * 4 KiB READ command and its Data-In with status), blocking I/O, nothing else done on either side.
 * Usage: round-trip PORT COUNT; prints the mean round trip in us after COUNT/10 untimed ones. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static void full(int s, char *b, int n) { for (int o = 0, r; o < n; o += r) if ((r = read(s, b + o, n - o)) <= 0) exit(1); }
int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: round-trip PORT COUNT\n"); return 2; }
  int port = atoi(argv[1]), n = atoi(argv[2]), one = 1;
  static char buf[8192];
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (void *) &a, sizeof a) || listen(l, 1)) { perror("listen"); return 1; }
  if (fork() == 0) {
    int s = accept(l, 0, 0);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) { full(s, buf, 48); if (write(s, buf, 48 + 4096) != 48 + 4096) exit(1); }
  }
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (void *) &a, sizeof a)) { perror("connect"); return 1; }
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timespec t0, t1;
  for (int i = 0; i < n / 10; i++) { write(c, buf, 48); full(c, buf, 48 + 4096); }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; i++) { write(c, buf, 48); full(c, buf, 48 + 4096); }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.1f us per round trip\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n);
  close(c); wait(0);
  return 0;
}
