module github.com/gosmtplib/smtplib

go 1.23.0

require (
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	golang.org/x/net v0.42.0
)

require golang.org/x/text v0.27.0 // indirect
