/* Guest physical memory: bounds, defined outcomes outside RAM, sizes. */
#include <criterion/criterion.h>

#include "mmu/phys.h"

Test(phys, reads_past_ram_return_all_ones_and_writes_are_dropped)
{
	struct phys p;
	char err[128];
	cr_assert(phys_init(&p, 1 << 20, err, sizeof err), "%s", err);
	phys_write(&p, 0xffffc, UINT64_C(0x1122334455667788), 8); /* straddles the end */
	cr_assert_eq(phys_read(&p, 0xffffc, 4), 0x55667788);
	cr_assert_eq(phys_read(&p, 0xffffc, 8), UINT64_C(0xffffffff55667788));
	cr_assert_eq(phys_read(&p, UINT64_C(0xfffffffffffffff8), 8), ~UINT64_C(0));
	phys_write(&p, UINT64_C(0xfffffffffffffffc), 0, 8); /* wraps: dropped */
	uint8_t buf[16];
	phys_read_bytes(&p, 0xffff8, buf, sizeof buf);
	cr_assert_eq(buf[15], 0xff);
	cr_assert_eq(buf[4], 0x88);
	phys_free(&p);
}

Test(phys, rejects_bad_sizes_with_a_reason)
{
	struct phys p;
	char err[128];
	cr_assert(!phys_init(&p, 4096, err, sizeof err));
	cr_assert(strstr(err, "RAM size"), "%s", err);
	cr_assert(!phys_init(&p, (1 << 20) + 1, err, sizeof err));
	cr_assert(!phys_init(&p, UINT64_C(1) << 40, err, sizeof err));
}
