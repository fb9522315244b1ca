/* The sample model of sample_model.h, built op by op with the test
 * builder: 12 nodes, five of them Constants (one per Constant form), and an
 * fp16 initializer holding half precision's edge values. */
#include <stdint.h>

#include "sample_model.h"

static const float HALF_VALS[8] = {1.0f, -2.5f, 5.9604645e-8f /* 2^-24 */, 3.0e-5f /* subnormal */,
                                   65504.0f, -0.0f, 1e10f /* -> inf */, 0.1f};

onnx_builder *sample_model_builder(void)
{
    onnx_builder *b;
    if (ob_new(17, &b))
        return NULL;
    int64_t in_dims[4] = {1, 3, 8, 8}, w_dims[4] = {4, 3, 3, 3}, b_dims[1] = {4}, h_dims[1] = {8};
    int64_t out_dims[2] = {-1, 4}, sh_dims[1] = {2}, shape[2] = {1, -1};
    float w[108], bias[4] = {0.5f, -0.25f, 1e-3f, 7.0f};
    for (int k = 0; k < 108; k++)
        w[k] = (float)k * 0.01f - 0.5f;
    int n;
    ob_input(b, "input", in_dims, 4);
    ob_init_f32(b, "w", w_dims, 4, w, 0);
    ob_init_f32(b, "bias", b_dims, 1, bias, 0);
    ob_init_f32(b, "halfs", h_dims, 1, HALF_VALS, 1);
    ob_init_i64(b, "shape", sh_dims, 1, shape);
    const char *conv_in[] = {"input", "w", "bias"}, *conv_out[] = {"c"};
    ob_node(b, "Conv", "conv0", conv_in, 3, conv_out, 1, &n);
    int64_t pads[4] = {1, 1, 1, 1}, strides[2] = {1, 1};
    ob_attr_ints(b, n, "pads", pads, 4);
    ob_attr_ints(b, n, "strides", strides, 2);
    ob_attr_int(b, n, "group", 1);
    ob_attr_string(b, n, "auto_pad", "NOTSET");
    const char *clip_in[] = {"c", "", "cmax"}, *clip_out[] = {"r"};
    ob_node(b, "Constant", "k_max", NULL, 0, (const char *[]){"cmax"}, 1, &n);
    ob_attr_float(b, n, "value_float", 6.0f);
    ob_node(b, "Clip", "clip", clip_in, 3, clip_out, 1, &n);
    float fl[3] = {0.25f, -1.0f, 3.5f};
    int64_t one = 1;
    ob_node(b, "Constant", "k_t", NULL, 0, (const char *[]){"ct"}, 1, &n);
    ob_attr_tensor_f32(b, n, "value", h_dims, 1, HALF_VALS);
    ob_node(b, "Constant", "k_fs", NULL, 0, (const char *[]){"cfs"}, 1, &n);
    ob_attr_floats(b, n, "value_floats", fl, 3);
    ob_node(b, "Constant", "k_i", NULL, 0, (const char *[]){"ci"}, 1, &n);
    ob_attr_int(b, n, "value_int", -42);
    ob_node(b, "Constant", "k_is", NULL, 0, (const char *[]){"cis"}, 1, &n);
    ob_attr_ints(b, n, "value_ints", pads, 4);
    ob_node(b, "ReduceMean", "gap", (const char *[]){"r"}, 1, (const char *[]){"g"}, 1, &n);
    ob_attr_ints(b, n, "axes", (const int64_t[]){2, 3}, 2);
    ob_attr_int(b, n, "keepdims", 1);
    ob_node(b, "Reshape", "flat", (const char *[]){"g", "shape"}, 2, (const char *[]){"f"}, 1, &n);
    ob_node(b, "ConstantOfShape", "cos", (const char *[]){"shape"}, 1, (const char *[]){"z"}, 1, &n);
    ob_attr_tensor_i64(b, n, "value", &one, 1, &one);
    ob_node(b, "LeakyRelu", "", (const char *[]){"f"}, 1, (const char *[]){"out"}, 1, &n);
    ob_attr_float(b, n, "alpha", 0.125f);
    ob_attr_floats(b, n, "empty", NULL, 0);
    ob_node(b, "Custom", "custom", (const char *[]){"out"}, 1, (const char *[]){"extra", ""}, 2, &n);
    ob_node_domain(b, n, "com.example");
    ob_output(b, "out", out_dims, 2);
    ob_output(b, "z", NULL, 0);
    ob_prop(b, "author", "tests");
    ob_prop(b, "mnas.labels", "[\"a\",\"b\"]");
    return b;
}
