/* A compiled C workload: sorting, hashing, a hash table, CRC-32 and a
 * small integer matrix product over pseudo-random data. Built twice: as a
 * guest image (MMULAB_GUEST: output on the serial port) and as a host
 * program; both print the same lines, which the test compares. Plain
 * integer C, no floating point, no library calls but output. */
#include <stdint.h>

#ifdef MMULAB_GUEST
#include "guest.h"
static void emit(const char *label, uint64_t v)
{
	puts_serial(label);
	puts_serial(" ");
	put_hex(v);
	puts_serial("\n");
}
#else
#include <inttypes.h>
#include <stdio.h>
static void emit(const char *label, uint64_t v)
{
	printf("%s 0x%" PRIx64 "\n", label, v);
}
#endif

#define N 1024
#define TABLE_BITS 13
#define TABLE_SIZE (1u << TABLE_BITS)
#define MAT 16
#define CRC32_POLY 0xEDB88320u
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint32_t data[N], copy[N], scratch[N];
static uint64_t table_key[TABLE_SIZE];
static uint32_t table_val[TABLE_SIZE];
static int32_t ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t xorshift64(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void quicksort(uint32_t *a, int lo, int hi)
{
	while (lo < hi) {
		uint32_t pivot = a[lo + (hi - lo) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				uint32_t t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		if (j - lo < hi - i) {
			quicksort(a, lo, j);
			lo = i;
		} else {
			quicksort(a, i, hi);
			hi = j;
		}
	}
}

static void merge_sort(uint32_t *a, uint32_t *tmp, int n)
{
	for (int width = 1; width < n; width *= 2) {
		for (int lo = 0; lo < n; lo += 2 * width) {
			int mid = lo + width < n ? lo + width : n;
			int hi = lo + 2 * width < n ? lo + 2 * width : n;
			int i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
			while (i < mid)
				tmp[k++] = a[i++];
			while (j < hi)
				tmp[k++] = a[j++];
		}
		for (int i = 0; i < n; i++)
			a[i] = tmp[i];
	}
}

static uint64_t fnv1a(const uint32_t *a, int n)
{
	uint64_t h = FNV_OFFSET;
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 4; b++) {
			h ^= (a[i] >> (8 * b)) & 0xff;
			h *= FNV_PRIME;
		}
	return h;
}

static uint32_t crc32(const uint32_t *a, int n)
{
	uint32_t crc = 0xFFFFFFFFu;
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 4; b++) {
			crc ^= (a[i] >> (8 * b)) & 0xff;
			for (int k = 0; k < 8; k++)
				crc = (crc >> 1) ^ (CRC32_POLY & (0u - (crc & 1)));
		}
	return ~crc;
}

/* Open addressing with linear probing; returns the number of probes. */
static uint64_t table_insert(uint64_t key, uint32_t val)
{
	uint64_t probes = 0;
	uint32_t i = (uint32_t)((key * FNV_PRIME) >> (64 - TABLE_BITS));
	while (table_key[i] && table_key[i] != key) {
		i = (i + 1) & (TABLE_SIZE - 1);
		probes++;
	}
	table_key[i] = key;
	table_val[i] += val;
	return probes;
}

static uint64_t table_sum(void)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < TABLE_SIZE; i++)
		if (table_key[i])
			s = s * 31 + table_key[i] + table_val[i];
	return s;
}

static uint64_t matrix(void)
{
	for (int i = 0; i < MAT; i++)
		for (int j = 0; j < MAT; j++) {
			ma[i][j] = (int32_t)(xorshift64() % 201) - 100;
			mb[i][j] = (int32_t)(xorshift64() % 201) - 100;
		}
	uint64_t s = 0;
	for (int i = 0; i < MAT; i++)
		for (int j = 0; j < MAT; j++) {
			int32_t acc = 0;
			for (int k = 0; k < MAT; k++)
				acc += ma[i][k] * mb[k][j];
			mc[i][j] = acc;
			s = s * 1000003 + (uint32_t)acc;
		}
	return s;
}

static uint64_t workload(void)
{
	for (int i = 0; i < N; i++)
		data[i] = copy[i] = (uint32_t)xorshift64();
	quicksort(data, 0, N - 1);
	merge_sort(copy, scratch, N);
	uint64_t mismatches = 0;
	for (int i = 0; i < N; i++)
		mismatches += data[i] != copy[i] || (i && data[i - 1] > data[i]);
	emit("sorted_mismatches", mismatches);
	uint64_t h = fnv1a(data, N);
	emit("fnv1a", h);
	uint32_t crc = crc32(data, N);
	emit("crc32", crc);
	uint64_t probes = 0;
	for (int i = 0; i < 3 * N / 2; i++)
		probes += table_insert((xorshift64() % 3000) + 1, (uint32_t)i);
	emit("table", table_sum() ^ probes);
	uint64_t m = matrix();
	emit("matrix", m);
	return h ^ crc ^ probes ^ m;
}

#ifdef MMULAB_GUEST
void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	emit("checksum", workload());
	guest_exit(0);
}
#else
int main(void)
{
	emit("checksum", workload());
	return 0;
}
#endif
