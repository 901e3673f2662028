/*
 * bcryptprimitives.dll for the Windows test lane under Wine only; never
 * shipped in the MSI.
 *
 * Go 1.24 and later programs call ProcessPrng from bcryptprimitives.dll at
 * start-up (Windows 10 and later have it); Wine 8 (Debian 12) has no such
 * DLL. ProcessPrng(buf, len) fills buf with random bytes and always returns
 * TRUE; here it asks RtlGenRandom, exported by advapi32 as SystemFunction036
 * (documented by Microsoft as RtlGenRandom).
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (!SystemFunction036(buf, n))
      return FALSE;
    buf += n;
    len -= n;
  }
  return TRUE;
}
