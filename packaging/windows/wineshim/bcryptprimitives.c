/* bcryptprimitives.dll for Wine 8, which lacks it: Go's Windows runtime (1.22+) loads
 * ProcessPrng from it at start and dies with "bcryptprimitives.dll not found" otherwise.
 * Test-only: the Windows suite (wintest/, `make test-windows`) builds this with
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 * into a throw-away WINEPREFIX. Never shipped, never committed as a binary.
 * ProcessPrng is documented to always succeed; RtlGenRandom (advapi32 SystemFunction036) is
 * Wine's implemented CSPRNG entry point, taking a ULONG length, hence the chunking. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
