/*
 * loadgen: the echo benchmark's load generator (and idle-connection holder).
 *
 * A separate process in C, so that the client is never the bottleneck: one epoll loop,
 * level-triggered, no allocation after start-up.  bench/run_all.py compiles it with
 * `gcc -O2` into a temporary directory and pins it to its own CPU with taskset.
 *
 *   loadgen echo HOST PORT CONNS WARMUP_S DURATION_S [MSG_BYTES]
 *       Opens CONNS connections; each sends MSG_BYTES (default 16), waits for the whole
 *       echo, sends again (one message in flight per connection).  After WARMUP_S it
 *       prints "MEASURE" and counts round trips for DURATION_S, then prints one line
 *       "RESULT {json}" with the round trips per second and its own CPU time over the
 *       measured window, and closes every connection with a reset (SO_LINGER 0) so no
 *       TIME_WAIT is left behind for the next run.
 *
 *   loadgen idle HOST PORT CONNS HOLD_S [MSG_BYTES]
 *       Opens CONNS connections, prints "READY n", and holds them until its standard
 *       input reaches EOF (or HOLD_S passes), then resets them all.  Without MSG_BYTES
 *       (or with 0) they never carry a byte; with it, each does one echo round trip of
 *       MSG_BYTES first, so the server has read and written on every connection once.
 *
 * Everything goes to HOST, which the benchmark sets to 127.0.0.1.  Loops are bounded by
 * the count of connections and by time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 1024
#define MAX_MSG 4096
#define CONNECT_DEADLINE_S 60.0

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* Connect CONNS sockets (blocking connect, then non-blocking); returns the fds. */
static int *open_connections(const char *host, int port, int conns) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "loadgen: bad IPv4 address %s\n", host);
        exit(2);
    }
    int *fds = calloc((size_t)conns, sizeof(int));
    if (!fds) die("calloc");
    double deadline = now() + CONNECT_DEADLINE_S;
    for (int i = 0; i < conns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        for (;;) {
            if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) break;
            if (errno == EINTR) continue;
            if ((errno == EAGAIN || errno == ECONNREFUSED || errno == ETIMEDOUT) &&
                now() < deadline) {
                /* accept queue full for a moment: back off and retry on a new socket */
                close(fd);
                usleep(1000);
                fd = socket(AF_INET, SOCK_STREAM, 0);
                if (fd < 0) die("socket");
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                continue;
            }
            fprintf(stderr, "loadgen: connect #%d: %s\n", i, strerror(errno));
            exit(2);
        }
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("O_NONBLOCK");
        fds[i] = fd;
    }
    return fds;
}

static void reset_all(int *fds, int conns) {
    struct linger lg = {1, 0};
    for (int i = 0; i < conns; i++) {
        setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fds[i]);
    }
}

static int run_echo(const char *host, int port, int conns, double warmup, double duration,
                    int msg) {
    int *fds = open_connections(host, port, conns);
    int maxfd = 0;
    for (int i = 0; i < conns; i++)
        if (fds[i] > maxfd) maxfd = fds[i];
    int *got = calloc((size_t)maxfd + 1, sizeof(int));
    if (!got) die("calloc");
    char out[MAX_MSG], in[MAX_MSG];
    memset(out, 'x', sizeof out);
    out[msg - 1] = '\n';

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    for (int i = 0; i < conns; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) die("epoll_ctl");
    }
    long errors = 0;
    for (int i = 0; i < conns; i++)
        if (send(fds[i], out, (size_t)msg, MSG_NOSIGNAL) != msg) errors++;

    uint64_t count = 0, count_at_start = 0;
    double t0 = now();
    double t_measure = t0 + warmup, t_end = t_measure + duration;
    double cpu0 = 0, tm0 = 0;
    int measuring = 0;
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        double t = now();
        if (!measuring && t >= t_measure) {
            measuring = 1;
            count_at_start = count;
            tm0 = t;
            cpu0 = cpu_seconds();
            printf("MEASURE\n");
            fflush(stdout);
        }
        if (t >= t_end) break;
        int n = epoll_wait(ep, events, MAX_EVENTS, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            int fd = events[k].data.fd;
            ssize_t r = recv(fd, in, sizeof in, 0);
            if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                errors++;
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                continue;
            }
            got[fd] += (int)r;
            while (got[fd] >= msg) {
                got[fd] -= msg;
                count++;
                if (send(fd, out, (size_t)msg, MSG_NOSIGNAL) != msg) errors++;
            }
        }
    }
    double tm1 = now(), cpu1 = cpu_seconds();
    uint64_t rts = count - count_at_start;
    double secs = tm1 - tm0;
    printf("RESULT {\"conns\": %d, \"round_trips\": %llu, \"seconds\": %.4f, "
           "\"rtps\": %.1f, \"client_cpu\": %.4f, \"errors\": %ld}\n",
           conns, (unsigned long long)rts, secs, rts / secs, (cpu1 - cpu0) / secs, errors);
    fflush(stdout);
    reset_all(fds, conns);
    return errors ? 1 : 0;
}

/* One echo round trip of MSG bytes on every connection (bounded by DEADLINE_S). */
static void one_round_trip_each(int *fds, int conns, int msg) {
    char out[MAX_MSG], in[MAX_MSG];
    memset(out, 'x', sizeof out);
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    int maxfd = 0;
    for (int i = 0; i < conns; i++)
        if (fds[i] > maxfd) maxfd = fds[i];
    int *got = calloc((size_t)maxfd + 1, sizeof(int));
    if (!got) die("calloc");
    for (int i = 0; i < conns; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) die("epoll_ctl");
        if (send(fds[i], out, (size_t)msg, MSG_NOSIGNAL) != msg) die("send");
    }
    int left = conns;
    double deadline = now() + CONNECT_DEADLINE_S;
    struct epoll_event events[MAX_EVENTS];
    while (left > 0 && now() < deadline) {
        int n = epoll_wait(ep, events, MAX_EVENTS, 100);
        for (int k = 0; k < n; k++) {
            int fd = events[k].data.fd;
            ssize_t r = recv(fd, in, sizeof in, 0);
            if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                fprintf(stderr, "loadgen: connection closed during the round trip\n");
                exit(2);
            }
            got[fd] += (int)r;
            if (got[fd] >= msg) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                left--;
            }
        }
    }
    if (left) {
        fprintf(stderr, "loadgen: %d echoes missing\n", left);
        exit(2);
    }
    close(ep);
    free(got);
}

static int run_idle(const char *host, int port, int conns, double hold, int msg) {
    int *fds = open_connections(host, port, conns);
    if (msg > 0) one_round_trip_each(fds, conns, msg);
    printf("READY %d\n", conns);
    fflush(stdout);
    double end = now() + hold;
    char buf[256];
    for (;;) {
        double left = end - now();
        if (left <= 0) break;
        struct pollfd p = {.fd = 0, .events = POLLIN};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR) break;
        if (n > 0) {
            ssize_t r = read(0, buf, sizeof buf);
            if (r <= 0) break; /* EOF: the benchmark is done with us */
        }
    }
    reset_all(fds, conns);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) goto usage;
    raise_nofile();
    if (strcmp(argv[1], "echo") == 0 && (argc == 7 || argc == 8)) {
        int msg = argc == 8 ? atoi(argv[7]) : 16;
        if (msg < 1 || msg > MAX_MSG) goto usage;
        return run_echo(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]), atof(argv[6]),
                        msg);
    }
    if (strcmp(argv[1], "idle") == 0 && (argc == 6 || argc == 7)) {
        int msg = argc == 7 ? atoi(argv[6]) : 0;
        if (msg < 0 || msg > MAX_MSG) goto usage;
        return run_idle(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]), msg);
    }
usage:
    fprintf(stderr,
            "usage: loadgen echo HOST PORT CONNS WARMUP_S DURATION_S [MSG_BYTES]\n"
            "       loadgen idle HOST PORT CONNS HOLD_S [MSG_BYTES]\n");
    return 2;
}
