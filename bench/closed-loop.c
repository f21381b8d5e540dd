/*
 * One keep-alive connection, each request sent when the previous answer has
 * arrived, every latency recorded as it was: the distribution wrk would show
 * without its coordinated-omission correction (bench/README.md), and the time
 * of each slow request, to set beside `perf sched` or --trace-gc output.
 *
 *   cc -O2 -o /tmp/closed-loop bench/closed-loop.c
 *   /tmp/closed-loop PORT PATH SECONDS [SLOW_US] [BODY]
 *
 * POSTs BODY (default {"name": "cortex"}) to 127.0.0.1:PORT/PATH for SECONDS;
 * prints "slow L ms at t=T s" for each request longer than SLOW_US (default
 * 1000), then one line: requests, req/s, mean, p50, p90, p99, p99.9, max (µs).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Reads one whole answer (headers and content-length bytes); returns 0 on success. */
static int read_answer(int fd, char *buf, size_t cap) {
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r <= 0) return -1;
        got += (size_t)r;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL) continue;
        char *len = strcasestr(buf, "content-length:");
        if (len == NULL || len > end) return -1;
        if (got >= (size_t)(end + 4 - buf) + strtoul(len + 15, NULL, 10)) return 0;
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT PATH SECONDS [SLOW_US] [BODY]\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[3]);
    double slow = argc > 4 ? atof(argv[4]) : 1000;
    const char *body = argc > 5 ? argv[5] : "{\"name\": \"cortex\"}";
    char request[4096];
    int length = snprintf(request, sizeof request,
                          "POST /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          argv[2], strlen(body), body);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("connect");
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    static char answer[1 << 16];
    size_t n = 0, cap = 1 << 22;
    double *latency = malloc(cap * sizeof *latency);
    double start = now_us(), end = start + seconds * 1e6;
    for (double sent = start; sent < end && n < cap; sent = now_us()) {
        if (write(fd, request, length) != length || read_answer(fd, answer, sizeof answer) != 0) {
            fprintf(stderr, "the connection failed after %zu requests\n", n);
            return 1;
        }
        double took = now_us() - sent;
        latency[n++] = took;
        if (took > slow) printf("slow %.3f ms at t=%.3f s\n", took / 1e3, (sent - start) / 1e6);
    }
    if (n == 0) return 1;
    double total = 0;
    for (size_t i = 0; i < n; i++) total += latency[i];
    qsort(latency, n, sizeof *latency, by_value);
    printf("requests %zu  req/s %.0f  mean %.1f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f (µs)\n", n, n / seconds,
           total / n, latency[n / 2], latency[n * 9 / 10], latency[n * 99 / 100], latency[n * 999 / 1000], latency[n - 1]);
    return 0;
}
