//go:build cgo && (linux || openjp2)

package emrtd

/*
#cgo LDFLAGS: -lopenjp2
#cgo pkg-config: libopenjp2
#include <stdlib.h>
#include <string.h>
#include <openjpeg.h>

typedef struct { const unsigned char *buf; OPJ_SIZE_T len, off; } memsrc;

static OPJ_SIZE_T mem_read(void *dst, OPJ_SIZE_T n, void *user) {
	memsrc *m = user;
	if (m->off >= m->len) return (OPJ_SIZE_T)-1;
	if (n > m->len - m->off) n = m->len - m->off;
	memcpy(dst, m->buf + m->off, n);
	m->off += n;
	return n;
}
static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user) {
	memsrc *m = user;
	if (n < 0) { if ((OPJ_SIZE_T)(-n) > m->off) n = -(OPJ_OFF_T)m->off; }
	else if ((OPJ_SIZE_T)n > m->len - m->off) n = (OPJ_OFF_T)(m->len - m->off);
	m->off += n;
	return n;
}
static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user) {
	memsrc *m = user;
	if (n < 0 || (OPJ_SIZE_T)n > m->len) return OPJ_FALSE;
	m->off = (OPJ_SIZE_T)n;
	return OPJ_TRUE;
}
static void quiet(const char *msg, void *data) { (void)msg; (void)data; }

// too_large refuses images whose header claims more than 16 megapixels or
// 4 components, before the decoder allocates for them (a CCCD face is about
// 400×500 pixels, 3 components).
static int too_large(const opj_image_t *img) {
	if (!img || img->x1 <= img->x0 || img->y1 <= img->y0 || img->numcomps == 0 || img->numcomps > 4) return 1;
	unsigned long long w = img->x1 - img->x0, h = img->y1 - img->y0;
	return w * h > 4096ULL * 4096ULL;
}

// decode returns the image or NULL. codec: 0 = J2K codestream, 1 = JP2.
static opj_image_t *decode(const unsigned char *buf, size_t len, int jp2) {
	memsrc *m = calloc(1, sizeof *m);
	if (!m) return NULL;
	m->buf = buf; m->len = len;
	opj_stream_t *st = opj_stream_create(1 << 16, OPJ_TRUE);
	if (!st) { free(m); return NULL; }
	opj_stream_set_user_data(st, m, free);
	opj_stream_set_user_data_length(st, len);
	opj_stream_set_read_function(st, mem_read);
	opj_stream_set_skip_function(st, mem_skip);
	opj_stream_set_seek_function(st, mem_seek);
	opj_codec_t *c = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	opj_set_info_handler(c, quiet, NULL);
	opj_set_warning_handler(c, quiet, NULL);
	opj_set_error_handler(c, quiet, NULL);
	opj_dparameters_t p;
	opj_set_default_decoder_parameters(&p);
	opj_image_t *img = NULL;
	if (!opj_setup_decoder(c, &p) || !opj_read_header(st, c, &img) ||
	    too_large(img) || !opj_decode(c, st, img) || !opj_end_decompress(c, st)) {
		if (img) opj_image_destroy(img);
		img = NULL;
	}
	opj_destroy_codec(c);
	opj_stream_destroy(st);
	return img;
}
static opj_image_comp_t *comp(opj_image_t *img, int i) { return &img->comps[i]; }
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"unsafe"
)

// JPEG2000Supported reports whether this build decodes JPEG 2000.
const JPEG2000Supported = true

func decodeJPEG2000(data []byte) (image.Image, error) {
	if len(data) == 0 || len(data) > 16<<20 {
		return nil, errors.New("emrtd: JPEG 2000 data size")
	}
	jp2 := C.int(1)
	if bytes.HasPrefix(data, sigJ2K) {
		jp2 = 0
	}
	buf := C.CBytes(data)
	defer C.free(buf)
	img := C.decode((*C.uchar)(buf), C.size_t(len(data)), jp2)
	if img == nil {
		return nil, errors.New("emrtd: libopenjp2 could not decode the face image")
	}
	defer C.opj_image_destroy(img)
	n := int(img.numcomps)
	if n < 1 {
		return nil, errors.New("emrtd: JPEG 2000 image without components")
	}
	c0 := C.comp(img, 0)
	w, h := int(c0.w), int(c0.h)
	if w <= 0 || h <= 0 || w*h > 1<<24 {
		return nil, fmt.Errorf("emrtd: JPEG 2000 image of %d×%d", w, h)
	}
	type plane struct {
		px     []C.OPJ_INT32
		w, h   int
		dx, dy int
		shift  int
		signed bool
	}
	planes := make([]plane, min(n, 3))
	for i := range planes {
		c := C.comp(img, C.int(i))
		cw, ch := int(c.w), int(c.h)
		if c.data == nil || cw <= 0 || ch <= 0 {
			return nil, errors.New("emrtd: JPEG 2000 component without data")
		}
		dx, dy := max(1, int(c.dx)/max(1, int(c0.dx))), max(1, int(c.dy)/max(1, int(c0.dy)))
		planes[i] = plane{
			px: unsafe.Slice(c.data, cw*ch), w: cw, h: ch, dx: dx, dy: dy,
			shift: int(c.prec) - 8, signed: c.sgnd != 0,
		}
	}
	sample := func(p plane, x, y int) uint8 {
		x, y = min(x/p.dx, p.w-1), min(y/p.dy, p.h-1)
		v := int(p.px[y*p.w+x])
		if p.signed {
			v += 1 << (p.shift + 7)
		}
		if p.shift > 0 {
			v >>= p.shift
		} else if p.shift < 0 {
			v <<= -p.shift
		}
		return uint8(max(0, min(255, v)))
	}
	if len(planes) < 3 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g.Pix[y*g.Stride+x] = sample(planes[0], x, y)
			}
		}
		return g, nil
	}
	ycc := img.color_space == C.OPJ_CLRSPC_SYCC
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a, b, c := sample(planes[0], x, y), sample(planes[1], x, y), sample(planes[2], x, y)
			if ycc {
				a, b, c = color.YCbCrToRGB(a, b, c)
			}
			i := y*out.Stride + 4*x
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = a, b, c, 255
		}
	}
	return out, nil
}
