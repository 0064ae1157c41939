// MarqueeMedia
