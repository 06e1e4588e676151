/* rng.c - xoshiro256** seeded with splitmix64: reproducible streams for seeded models. */
#include <math.h>

#include "base.h"

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
aiops_rng_seed(struct aiops_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		r->s[i] = z ^ (z >> 31);
	}
}

uint64_t
aiops_rng_next(struct aiops_rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double
aiops_rng_uniform(struct aiops_rng *r)
{
	return (double)(aiops_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t
aiops_rng_below(struct aiops_rng *r, uint64_t n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;

	do
		v = aiops_rng_next(r);
	while (v >= lim);
	return v % n;
}

double
aiops_rng_normal(struct aiops_rng *r)
{
	double u1 = aiops_rng_uniform(r), u2 = aiops_rng_uniform(r);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}
