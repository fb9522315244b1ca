/* IEEE half precision <-> float (graph.h): exact half -> float on the edge
 * values, and float -> half exhaustively round-tripped, then rounding ties,
 * overflow and underflow. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "graph/graph.h"

static check_state S;

static void test_half(void)
{
    CHECK(&S, mnas_graph_half_to_float(0x0001) == ldexpf(1, -24), "smallest subnormal");
    CHECK(&S, mnas_graph_half_to_float(0x03ff) == ldexpf(1023, -24), "largest subnormal");
    CHECK(&S, mnas_graph_half_to_float(0x0400) == ldexpf(1, -14), "smallest normal");
    CHECK(&S, mnas_graph_half_to_float(0x7bff) == 65504.0f, "max half");
    CHECK(&S, mnas_graph_half_to_float(0x3c00) == 1.0f && mnas_graph_half_to_float(0xc000) == -2.0f, "1, -2");
    CHECK(&S, isinf(mnas_graph_half_to_float(0x7c00)) && mnas_graph_half_to_float(0xfc00) < 0, "inf");
    CHECK(&S, isnan(mnas_graph_half_to_float(0x7e00)), "nan");
    CHECK(&S, check_fbits(mnas_graph_half_to_float(0x8000)) == 0x80000000u, "-0");
    /* float -> half: exhaustive round trip over every half, then ties. */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = mnas_graph_half_to_float((uint16_t)h);
        uint16_t back = mnas_graph_float_to_half(f);
        if (isnan(f) ? !isnan(mnas_graph_half_to_float(back)) : back != h)
            bad++;
    }
    CHECK(&S, bad == 0, "%d halves do not round-trip", bad);
    CHECK(&S, mnas_graph_float_to_half(1.0f + ldexpf(1, -11)) == 0x3c00, "tie to even (down)");
    CHECK(&S, mnas_graph_float_to_half(1.0f + 3 * ldexpf(1, -11)) == 0x3c02, "tie to even (up)");
    CHECK(&S, mnas_graph_float_to_half(65519.0f) == 0x7bff && mnas_graph_float_to_half(65520.0f) == 0x7c00, "overflow edge");
    CHECK(&S, mnas_graph_float_to_half(ldexpf(1, -25)) == 0 && mnas_graph_float_to_half(ldexpf(1.5f, -25)) == 1, "subnormal ties");
    CHECK(&S, mnas_graph_float_to_half(ldexpf(3, -25)) == 2, "subnormal tie to even");
    CHECK(&S, mnas_graph_float_to_half(1e-30f) == 0 && mnas_graph_float_to_half(-1e-30f) == 0x8000, "underflow keeps sign");
    CHECK(&S, mnas_graph_float_to_half(ldexpf(1023.5f, -24)) == 0x0400, "subnormal rounds up to normal");
}

int main(void)
{
    test_half();
    return check_summary(&S, "test_half");
}
