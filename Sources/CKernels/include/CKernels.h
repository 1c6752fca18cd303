#ifndef LCB_CKERNELS_H
#define LCB_CKERNELS_H

/// Run-time CPU feature detection for the dispatched kernels.
int lcb_cpu_has_avx2(void);
int lcb_cpu_has_avx512f(void);

#include "quant_kernels.h"

#endif
