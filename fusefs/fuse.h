// The one place that picks the libfuse API version: 3.14, the version Debian 12 ships.
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
