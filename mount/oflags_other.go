//go:build !linux

package mount

// oDirect is O_DIRECT where the system has it; macOS has none (it uses
// F_NOCACHE instead).
const oDirect = 0
