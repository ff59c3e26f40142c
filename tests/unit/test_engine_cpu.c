/*
 * test_engine_cpu.c - where the engine's thread is moved
 * (engine_cpu.c): the /proc/softirqs parser and the choice of a CPU
 * that completes little block I/O, white box through
 * lib/engine/engine.h.  Both are plain functions of their input, so
 * they are checked on any system; the bats tests check the placement
 * itself on Linux.
 */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "engine/engine.h"

/* The text of a 2-vCPU VM whose disk interrupts land on CPU1. */
static const char softirqs_2[] =
    "                    CPU0       CPU1\n"
    "          HI:          1          0\n"
    "       TIMER:     970999     733741\n"
    "      NET_TX:          3          2\n"
    "      NET_RX:        825       1658\n"
    "       BLOCK:          0   30940135\n"
    "    IRQ_POLL:          0          0\n"
    "     TASKLET:        122         44\n"
    "       SCHED:    1789452    1251559\n"
    "     HRTIMER:          0          0\n"
    "         RCU:    1526412    1450031\n";

DEFINE_TEST(test_engine_cpu_softirq_parse)
{
	uint32_t c[8];

	memset(c, 0xff, sizeof(c));
	CHECK_EQ_INT(eng_softirq_block(softirqs_2, c, 8), 2);
	CHECK_EQ_INT(c[0], 0);
	CHECK_EQ_INT(c[1], 30940135);
	CHECK_EQ_INT(c[2], 0xffffffffu);	/* not named: left alone */

	/* columns name their CPUs: an offline CPU leaves a gap */
	memset(c, 0, sizeof(c));
	CHECK_EQ_INT(eng_softirq_block(
	    "       CPU0       CPU2       CPU3\n"
	    "  BLOCK:  5  7  4294967295\n", c, 8), 3);
	CHECK_EQ_INT(c[0], 5);
	CHECK_EQ_INT(c[1], 0);
	CHECK_EQ_INT(c[2], 7);
	CHECK_EQ_INT(c[3], 4294967295u);

	/* CPUs past ncnt are counted as parsed but not stored */
	memset(c, 0, sizeof(c));
	CHECK_EQ_INT(eng_softirq_block(softirqs_2, c, 1), 2);
	CHECK_EQ_INT(c[0], 0);
	CHECK_EQ_INT(c[1], 0);

	/* no BLOCK line, a cut one, a header that is not one: -1 */
	CHECK_EQ_INT(eng_softirq_block("  CPU0\n  TIMER: 1\n", c, 8), -1);
	CHECK_EQ_INT(eng_softirq_block("  CPU0  CPU1\n  BLOCK: 1 2", c, 8),
	    -1);
	CHECK_EQ_INT(eng_softirq_block("  CPU0  CPU1\n  BLOCK: 1\n", c, 8),
	    -1);
	CHECK_EQ_INT(eng_softirq_block("  X0  Y1\n  BLOCK: 1 2\n", c, 8), -1);
	CHECK_EQ_INT(eng_softirq_block("", c, 8), -1);
}

/* allowed: bits for CPUs 0..n-1 from a string of '0'/'1' */
static void
mask(unsigned long *m, const char *bits)
{
	memset(m, 0, ENG_PIN_WORDS * sizeof(*m));
	for (size_t i = 0; bits[i] != '\0'; i++)
		if (bits[i] == '1')
			m[i / (8 * sizeof(*m))] |= 1ul << (i % (8 * sizeof(*m)));
}

DEFINE_TEST(test_engine_cpu_quiet_choice)
{
	unsigned long a[ENG_PIN_WORDS];
	uint32_t now[4] = { 0, 30940135, 0, 0 };
	uint32_t before[4] = { 0, 30940000, 0, 0 };

	mask(a, "11");
	/* on the CPU with the interrupts: move to the other */
	CHECK_EQ_INT(eng_pin_quiet(now, NULL, 2, a, 1, 1000), 0);
	/* already on the quiet one: stay */
	CHECK_EQ_INT(eng_pin_quiet(now, NULL, 2, a, 0, 1000), -1);
	/* too few to go by */
	CHECK_EQ_INT(eng_pin_quiet(now, before, 2, a, 1, 1000), -1);
	CHECK_EQ_INT(eng_pin_quiet(now, before, 2, a, 1, 32), 0);
	/* the other CPU not allowed (taskset): nowhere to go */
	mask(a, "01");
	CHECK_EQ_INT(eng_pin_quiet(now, NULL, 2, a, 1, 1000), -1);
	/* the engine's CPU not allowed: no judgement */
	mask(a, "10");
	CHECK_EQ_INT(eng_pin_quiet(now, NULL, 2, a, 1, 1000), -1);

	/* spread evenly (a multi-queue device): stay */
	{
		uint32_t even[4] = { 5000, 5200, 4900, 5100 };

		mask(a, "1111");
		CHECK_EQ_INT(eng_pin_quiet(even, NULL, 4, a, 1, 1000), -1);
	}
	/* most, but the quietest has more than a quarter: stay */
	{
		uint32_t two[4] = { 3000, 9000, 3500, 4000 };

		CHECK_EQ_INT(eng_pin_quiet(two, NULL, 4, a, 1, 1000), -1);
		two[0] = 2000;	/* a quarter, but cur under half: stay */
		CHECK_EQ_INT(eng_pin_quiet(two, NULL, 4, a, 1, 1000), -1);
		two[2] = 2000;
		two[3] = 2000;	/* 9000 of 15000: half, and 2000 <= 2250 */
		CHECK_EQ_INT(eng_pin_quiet(two, NULL, 4, a, 1, 1000), 0);
	}
	/* the quietest wins, the lowest number on a tie */
	{
		uint32_t q[4] = { 100, 90000, 20, 20 };

		CHECK_EQ_INT(eng_pin_quiet(q, NULL, 4, a, 1, 1000), 2);
	}
	/* 32-bit counters that wrapped between the looks */
	{
		uint32_t b[2] = { 10, 4294967000u }, n[2] = { 12, 700 };

		mask(a, "11");
		CHECK_EQ_INT(eng_pin_quiet(n, b, 2, a, 1, 32), 0);
	}
}
