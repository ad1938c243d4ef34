/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small deterministic PRNG (splitmix64 seeding xoshiro256**). The
 * benchmark tools must produce the same mailboxes and the same command
 * sequences from the same seed on every machine, so nothing here reads
 * the clock or /dev/urandom.
 */
#ifndef BENCH_RNG_H
#define BENCH_RNG_H

#include <stdint.h>

struct bench_rng {
	uint64_t s[4];
};

static inline uint64_t bench_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Two streams with different (a, b) never share a state sequence in
 * practice; a is usually the seed and b an index. */
static inline void bench_rng_init(struct bench_rng *r, uint64_t a, uint64_t b)
{
	uint64_t x = a * 0xd1342543de82ef95ULL + b;

	for (int i = 0; i < 4; i++)
		r->s[i] = bench_splitmix64(&x);
}

static inline uint64_t bench_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = bench_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = bench_rotl(s[3], 45);
	return res;
}

/* uniform in [0, n), n > 0; the modulo bias is irrelevant for n << 2^64 */
static inline uint64_t bench_rng_below(struct bench_rng *r, uint64_t n)
{
	return bench_rng_next(r) % n;
}

/* uniform in [0, 1) */
static inline double bench_rng_unit(struct bench_rng *r)
{
	return (double)(bench_rng_next(r) >> 11) / 9007199254740992.0;
}

#endif
