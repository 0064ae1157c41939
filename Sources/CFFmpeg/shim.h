#ifndef MARQUEE_CFFMPEG_SHIM_H
#define MARQUEE_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libavutil/tx.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

// Macros Swift cannot import, as functions.
static inline int cffmpeg_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cffmpeg_averror_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cffmpeg_time_base(void) { return AV_TIME_BASE; }

static inline int cffmpeg_av_strerror(int errnum, char *buf, size_t size) {
    return av_strerror(errnum, buf, size);
}

// The interrupt callback is a C function pointer plus an opaque pointer; Swift closures
// cannot be stored there, so a deadline in microseconds (av_gettime_relative clock) is kept
// in plain C.
typedef struct cffmpeg_deadline { int64_t deadline_us; } cffmpeg_deadline;
static int cffmpeg_deadline_interrupt(void *opaque) {
    const cffmpeg_deadline *d = (const cffmpeg_deadline *)opaque;
    return d && d->deadline_us > 0 && av_gettime_relative() > d->deadline_us;
}
static inline void cffmpeg_set_interrupt(AVFormatContext *ctx, cffmpeg_deadline *d) {
    ctx->interrupt_callback.callback = cffmpeg_deadline_interrupt;
    ctx->interrupt_callback.opaque = d;
}

// Logging goes through the library's own callback, never straight to stderr.
static inline void cffmpeg_quiet(void) { av_log_set_level(AV_LOG_QUIET); }

#endif
