#ifndef MARQUEE_CSNDFILE_SHIM_H
#define MARQUEE_CSNDFILE_SHIM_H
#include <sndfile.h>
#endif
