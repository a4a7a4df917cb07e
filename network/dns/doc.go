// Package dns serves cluster DNS for service names.
package dns
