/* byte-relay.c - the cheapest relay there is, as a floor for bench/nbd.sh: forwards TCP connections on
 * 127.0.0.1 byte for byte, both ways, understanding nothing of what passes (no protocol, no framing, no copy
 * but the kernel's read and write). Whatever jtarget does as an iSCSI target and NBD client, it also moves
 * every byte through one more process, as this does; the throughput through this relay is what any relay
 * between qemu-img and nbdkit can reach on the machine.
 * Usage: byte-relay LISTEN_PORT TARGET_PORT (one child process per connection, reaped by the parent, so the
 * parent's cutime and cstime in /proc/PID/stat hold the relaying's CPU; stopped by a signal).
 * Tried: splice(2) through a pipe instead of read and write, no faster here (64 KiB writes 0.55-0.61 of
 * straight against 0.67-0.71, 4 KiB reads the same). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static void nodelay(int s) {
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* moves bytes between c and t until either side closes */
static void relay(int c, int t) {
  static char buf[1 << 20];
  int fd[2] = { c, t }, ep = epoll_create1(0);
  for (int i = 0; i < 2; i++) {
    struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &e);
  }
  for (;;) {
    struct epoll_event ev[2];
    int n = epoll_wait(ep, ev, 2, -1);
    for (int k = 0; k < n; k++) {
      int i = ev[k].data.u32;  /* one read per wake-up (level-triggered: what is left wakes it again) */
      ssize_t r = read(fd[i], buf, sizeof buf);
      if (r <= 0) return;
      for (ssize_t o = 0, w; o < r; o += w)
        if ((w = write(fd[1 - i], buf + o, r - o)) <= 0) return;
    }
  }
}

static void on_child(int sig) {
  (void) sig;
  while (waitpid(-1, 0, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: byte-relay LISTEN_PORT TARGET_PORT\n");
    return 2;
  }
  struct sockaddr_in here = loopback(atoi(argv[1])), there = loopback(atoi(argv[2]));
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, (struct sockaddr *) &here, sizeof here) || listen(s, 16)) {
    perror("byte-relay: listen");
    return 1;
  }
  struct sigaction reap = { .sa_handler = on_child, .sa_flags = SA_RESTART };
  sigaction(SIGCHLD, &reap, 0);
  for (;;) {
    int c = accept(s, 0, 0);
    if (c < 0) continue;
    if (fork() == 0) {
      close(s);
      int t = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(t, (struct sockaddr *) &there, sizeof there)) {
        perror("byte-relay: connect");
        _exit(1);
      }
      nodelay(c);
      nodelay(t);
      relay(c, t);
      _exit(0);
    }
    close(c);
  }
}
