/* Machine-model files: the built-in models, round trips, and every kind of
 * bad file rejected with name:line and a reason. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "mmu/model.h"

static void expect_error(const char *text, const char *where, const char *reason)
{
	struct mmu_model m;
	char err[256];
	cr_assert(!mmu_model_parse(&m, text, "bad.model", err, sizeof err), "accepted: %s", text);
	cr_assert(strstr(err, where), "error '%s' lacks '%s'", err, where);
	cr_assert(strstr(err, reason), "error '%s' lacks '%s'", err, reason);
}

#define GOOD_TAIL "tlb l1i sizes=4k entries=8 ways=2 latency=1\n" \
		  "tlb l1d sizes=4k entries=8 ways=2 latency=1\n" \
		  "walk timing=flat start=1 level_cycles=10 ad_update=5\n"

Test(model, default_model_has_the_cited_skylake_geometry)
{
	struct mmu_model m;
	mmu_model_default(&m);
	cr_assert_str_eq(m.name, "skylake");
	cr_assert_eq(m.tlb[TLB_L1D][0].entries, 64);
	cr_assert_eq(m.tlb[TLB_L1D][0].ways, 4);
	cr_assert_eq(m.tlb[TLB_L1D][1].entries, 32);
	cr_assert_eq(m.tlb[TLB_L1D][2].entries, 4);
	cr_assert_eq(m.tlb[TLB_L1I][0].entries, 128);
	cr_assert_eq(m.tlb[TLB_L1I][0].ways, 8);
	cr_assert_eq(m.tlb[TLB_L2][0].entries, 1536);
	cr_assert_eq(m.tlb[TLB_L2][0].ways, 12);
	cr_assert_eq(m.tlb[TLB_L2][0].latency, 9);
	cr_assert_eq(m.cache[CACHE_L1D].size, 32 * 1024);
	cr_assert_eq(m.cache[CACHE_L1D].latency, 4);
	cr_assert_eq(m.cache[CACHE_L2].latency, 12);
	cr_assert_eq(m.walk_timing, WALK_TIMING_CACHED);
}

Test(model, format_round_trips_and_hash_is_stable)
{
	struct mmu_model a, b, flat;
	char buf[4096], err[256];
	mmu_model_default(&a);
	mmu_model_format(&a, buf, sizeof buf);
	cr_assert(mmu_model_parse(&b, buf, "formatted", err, sizeof err), "%s", err);
	cr_assert_eq(mmu_model_hash(&a), mmu_model_hash(&b));
	mmu_model_flat(&flat);
	cr_assert_neq(mmu_model_hash(&a), mmu_model_hash(&flat));
	b.tlb[TLB_L2][0].latency++;
	cr_assert_neq(mmu_model_hash(&a), mmu_model_hash(&b));
}

Test(model, bad_files_name_the_line_and_reason)
{
	expect_error("model x\nfrobnicate 3\n" GOOD_TAIL, "bad.model:2:", "unknown directive");
	expect_error(GOOD_TAIL, "bad.model:", "no 'model NAME'");
	expect_error("model x\ntlb l1d sizes=4k entries=6 ways=2 latency=1\n", ":2:", "not a power of two");
	expect_error("model x\ntlb l1d sizes=4k entries=7 ways=2 latency=1\n", ":2:", "multiple of ways");
	expect_error("model x\ntlb l3 sizes=4k entries=8 ways=2 latency=1\n", ":2:", "l1i, l1d or l2");
	expect_error("model x\ntlb l1d sizes=8k entries=8 ways=2 latency=1\n", ":2:", "unknown page size");
	expect_error("model x\ntlb l1d sizes=4k entries=8 ways=2\n", ":2:", "needs latency=");
	expect_error("model x\ntlb l1d sizes=4k entries=-8 ways=2 latency=1\n", ":2:", "bad value");
	expect_error("model x\ntlb l1d sizes=4k entries=99999999999999999999 ways=2 latency=1\n", ":2:",
		     "bad value");
	expect_error("model x\ntlb l1d sizes=4k entries=8 ways=2 latency=1 color=3\n", ":2:",
		     "unknown key");
	expect_error("model x\nmaxphyaddr 64\n", ":2:", "32 to 52");
	expect_error("model x\ncache l1d size=32k ways=8 line=48 latency=4\n", ":2:", "power of two");
	expect_error("model x\ncache l2 size=256k ways=4 line=64 latency=12\n" GOOD_TAIL, "bad.model:",
		     "without cache l1d");
	expect_error("model x\nwalk timing=warp\n", ":2:", "cached or flat");
	expect_error("model x\n" GOOD_TAIL "tlb l1d sizes=4k entries=8 ways=2 latency=1\n", ":5:",
		     "same page size");
	expect_error("model x\ntlb l1i sizes=4k entries=12 ways=3 latency=1\n"
		     "tlb l1d sizes=4k entries=8 ways=2 latency=1\nwalk timing=flat start=1 level_cycles=1 ad_update=1\n",
		     "bad.model:", "power-of-two number of ways");
	expect_error("model x\ntlb l1d sizes=4k entries=8 ways=2 latency=1\n"
		     "walk timing=flat start=1 level_cycles=10 ad_update=5\n", "bad.model:", "tlb l1i");
	expect_error("model x\ntlb l1i sizes=4k entries=8 ways=2 latency=1\n"
		     "tlb l1d sizes=4k entries=8 ways=2 latency=1\nwalk timing=cached start=1 ad_update=5\n",
		     "bad.model:", "needs at least 'cache l1d'");
}

Test(model, missing_and_binary_files_are_errors)
{
	struct mmu_model m;
	char err[256];
	cr_assert(!mmu_model_load(&m, "/nonexistent/dir/x.model", err, sizeof err));
	cr_assert(strstr(err, "cannot open"), "%s", err);
	char path[] = "/tmp/mmulab-model-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	fwrite("model x\0\1\2", 1, 10, f);
	fclose(f);
	cr_assert(!mmu_model_load(&m, path, err, sizeof err));
	cr_assert(strstr(err, "not a model file"), "%s", err);
	remove(path);
	cr_assert(mmu_model_resolve(&m, "flat", err, sizeof err));
	cr_assert_str_eq(m.name, "flat");
}
