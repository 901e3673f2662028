/*
 * openjp2-check FILE jp2|j2k: decodes a JPEG 2000 image with libopenjp2 and
 * prints its size, components and a checksum of every sample.
 * packaging/test.sh builds it twice, for Linux against Debian's libopenjp2
 * and for Windows against packaging/windows/openjp2.sh's static library, runs
 * the Windows one under Wine and wants the same line from both.
 */
#include <stdio.h>
#include <string.h>
#include <openjpeg.h>

static void quiet(const char *msg, void *data) { (void)msg; (void)data; }

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: openjp2-check FILE jp2|j2k\n");
		return 2;
	}
	opj_stream_t *st = opj_stream_create_default_file_stream(argv[1], OPJ_TRUE);
	if (!st) {
		printf("cannot open %s\n", argv[1]);
		return 1;
	}
	opj_codec_t *c = opj_create_decompress(strcmp(argv[2], "jp2") == 0 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	opj_set_error_handler(c, quiet, NULL);
	opj_set_warning_handler(c, quiet, NULL);
	opj_dparameters_t p;
	opj_set_default_decoder_parameters(&p);
	opj_image_t *img = NULL;
	if (!opj_setup_decoder(c, &p) || !opj_read_header(st, c, &img) || !opj_decode(c, st, img) ||
	    !opj_end_decompress(c, st)) {
		printf("cannot decode %s\n", argv[1]);
		return 1;
	}
	unsigned long long sum = 1469598103934665603ULL; /* FNV-1a over the samples */
	for (OPJ_UINT32 k = 0; k < img->numcomps; k++) {
		for (OPJ_UINT32 i = 0; i < img->comps[k].w * img->comps[k].h; i++) {
			sum ^= (unsigned long long)(unsigned)img->comps[k].data[i];
			sum *= 1099511628211ULL;
		}
	}
	printf("%ux%u components=%u samples-fnv=%016llx\n", img->comps[0].w, img->comps[0].h, img->numcomps, sum);
	opj_image_destroy(img);
	opj_destroy_codec(c);
	opj_stream_destroy(st);
	return 0;
}
