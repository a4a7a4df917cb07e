package labels

import (
	"errors"
	"fmt"
)

// ErrInvalid is the class of every parse and validation error of this
// package; test for it with errors.Is.
var ErrInvalid = errors.New("invalid label selector")

const (
	maxNameLen   = 63
	maxPrefixLen = 253
)

// ValidateKey checks a label key: an optional DNS subdomain prefix of at most
// 253 characters and a slash, then a name of 1 to 63 characters that starts
// and ends with an alphanumeric character and has only alphanumerics, '-',
// '_' and '.' in between.
func ValidateKey(key string) error {
	prefix, name := "", key
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			prefix, name = key[:i], key[i+1:]
			if prefix == "" {
				return fmt.Errorf("%w: key %q: prefix must not be empty", ErrInvalid, key)
			}
			break
		}
	}
	if prefix != "" {
		if err := validateDNSSubdomain(prefix); err != nil {
			return fmt.Errorf("%w: key %q: prefix: %s", ErrInvalid, key, err)
		}
	}
	if name == "" {
		return fmt.Errorf("%w: key %q: name must not be empty", ErrInvalid, key)
	}
	if err := validateName(name); err != nil {
		return fmt.Errorf("%w: key %q: %s", ErrInvalid, key, err)
	}
	return nil
}

// ValidateValue checks a label value: empty, or 1 to 63 characters that start
// and end with an alphanumeric character with alphanumerics, '-', '_' and '.'
// in between.
func ValidateValue(value string) error {
	if value == "" {
		return nil
	}
	if err := validateName(value); err != nil {
		return fmt.Errorf("%w: value %q: %s", ErrInvalid, value, err)
	}
	return nil
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func validateName(s string) error {
	if len(s) > maxNameLen {
		return fmt.Errorf("must be at most %d characters", maxNameLen)
	}
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return errors.New("must start and end with an alphanumeric character")
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return fmt.Errorf("character %q not allowed (alphanumerics, '-', '_', '.')", c)
		}
	}
	return nil
}

// validateDNSSubdomain checks lower-case RFC 1123 labels joined by dots.
func validateDNSSubdomain(s string) error {
	if len(s) > maxPrefixLen {
		return fmt.Errorf("must be at most %d characters", maxPrefixLen)
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		part := s[start:i]
		if part == "" {
			return errors.New("empty DNS label")
		}
		if len(part) > maxNameLen {
			return errors.New("DNS label longer than 63 characters")
		}
		for j := 0; j < len(part); j++ {
			c := part[j]
			lowerAlnum := ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
			if !lowerAlnum && (c != '-' || j == 0 || j == len(part)-1) {
				return fmt.Errorf("must be lower-case alphanumerics and '-' between dots, got %q", c)
			}
		}
		start = i + 1
	}
	return nil
}
