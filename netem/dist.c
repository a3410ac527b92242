// SPDX-License-Identifier: GPL-2.0-only
/*
 * netem's delay distribution tables (normal, pareto, paretonormal), made
 * here rather than read from /usr/lib/tc: pure arithmetic, without libm.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <linux/pkt_sched.h>

#include "netem/dist.h"

/*
 * A little arithmetic without libm (the build links none): exp by range
 * reduction and a series, square and cube roots by Newton's method.
 */
static double m_exp(double x)
{
	double r, term = 1, sum = 1;
	int k, i;

	if (x < -700)
		return 0;
	k = (int)(x / 0.6931471805599453 + (x < 0 ? -0.5 : 0.5));
	r = x - k * 0.6931471805599453;
	for (i = 1; i < 30; i++) {
		term *= r / i;
		sum += term;
	}
	while (k > 0) {
		sum *= 2;
		k--;
	}
	while (k < 0) {
		sum /= 2;
		k++;
	}
	return sum;
}

static double m_sqrt(double x)
{
	double g = x > 1 ? x : 1;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 200; i++) {
		double n = 0.5 * (g + x / g);

		if (n == g)
			break;
		g = n;
	}
	return g;
}

static double m_cbrt(double x)
{
	double g = x > 1 ? x : 1;
	int i;

	for (i = 0; i < 300; i++) {
		double n = g - (g * g * g - x) / (3 * g * g);

		if (n == g)
			break;
		g = n;
	}
	return g;
}

/* Pareto with shape 3, standardized to mean 0 and deviation 1. */
static double pareto_quantile(double u)
{
	return (1.0 / m_cbrt(1.0 - u) - 1.5) / m_sqrt(0.75);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* n quantiles of the standard normal at (i + 0.5) / n, by integration. */
static void normal_quantiles(double *q, size_t n)
{
	const double step = 1.0 / 4096, norm = 0.3989422804014327;
	double x = -9, cdf = 0;
	size_t i = 0;

	while (i < n && x < 9) {
		double mid = x + step / 2;

		cdf += norm * m_exp(-mid * mid / 2) * step;
		x += step;
		while (i < n && cdf >= (i + 0.5) / n)
			q[i++] = x;
	}
	while (i < n)
		q[i++] = 9;
}

static int16_t to_s16(double v)
{
	v = v * NETEM_DIST_SCALE;
	v += v < 0 ? -0.5 : 0.5;
	if (v > INT16_MAX)
		return INT16_MAX;
	if (v < INT16_MIN)
		return INT16_MIN;
	return (int16_t)v;
}

/*
 * netem's delay tables: NETEM_DIST_SIZE quantiles of the distribution in units
 * of NETEM_DIST_SCALE standard deviations (netem adds table[rnd] * jitter
 * / NETEM_DIST_SCALE to the delay).  Made here, no /usr/lib/tc needed.
 */
int netem_dist_table(enum netem_dist dist, int16_t *t)
{
	double *nq, *mix = NULL, v, mean = 0, var = 0, pq[256];
	size_t i, j, n = ARRAY_SIZE(pq);

	nq = malloc(NETEM_DIST_SIZE * sizeof(*nq));
	if (!nq)
		return -ENOMEM;
	normal_quantiles(nq, NETEM_DIST_SIZE);
	if (dist == NETEM_DIST_PARETONORMAL) {
		/* A quarter normal, three quarters pareto, on a grid. */
		double *nq2 = malloc(n * sizeof(*nq2));

		mix = malloc(n * n * sizeof(*mix));
		if (!mix || !nq2) {
			free(nq2);
			free(mix);
			free(nq);
			return -ENOMEM;
		}
		normal_quantiles(nq2, n);
		for (j = 0; j < n; j++)
			pq[j] = pareto_quantile((j + 0.5) / n);
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				v = 0.25 * nq2[i] + 0.75 * pq[j];
				mix[i * n + j] = v;
				mean += v;
			}
		free(nq2);
		mean /= n * n;
		for (i = 0; i < n * n; i++)
			var += (mix[i] - mean) * (mix[i] - mean);
		var = m_sqrt(var / (n * n));
		for (i = 0; i < n * n; i++)
			mix[i] = (mix[i] - mean) / var;
		qsort(mix, n * n, sizeof(*mix), cmp_double);
	}
	for (i = 0; i < NETEM_DIST_SIZE; i++) {
		double u = (i + 0.5) / NETEM_DIST_SIZE;

		if (dist == NETEM_DIST_NORMAL)
			v = nq[i];
		else if (dist == NETEM_DIST_PARETO)
			v = pareto_quantile(u);
		else
			v = mix[(size_t)(u * n * n)];
		t[i] = to_s16(v);
	}
	free(mix);
	free(nq);
	return 0;
}
