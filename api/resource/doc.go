// Package resource parses, compares and formats resource quantities such as
// "500m", "1.5", "128Mi", "1G" and "2e3", the way Kubernetes writes them.
//
// A Quantity is exact: it is an integer number of nano-units (10^-9), held
// as an int64 times a power of ten when it fits (so Add, Sub and Cmp do not
// allocate) and in a math/big.Int otherwise; no value is ever rounded
// through a float. Like
// Kubernetes, a parsed value finer than one nano-unit is rounded up (away
// from zero) to the next nano-unit. Quantities remember the notation they
// were written in (decimal SI suffix, binary SI suffix or decimal exponent)
// and String prints the canonical form in that notation: "1.5" is "1500m",
// "1024Mi" is "1Gi", "1000" is "1k".
//
// Magnitudes are limited to less than 10^1000 (and written exponents to
// [-2000, 2000]) so that a hostile input such as "1e999999999" cannot
// allocate without bound; such inputs fail with ErrRange.
package resource
