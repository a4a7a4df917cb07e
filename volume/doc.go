// Package volume defines volume plugins and the built-in ones.
package volume
