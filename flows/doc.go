// Package flows is pensionbot's dialogue logic, free of Telegram, Redis and
// HTTP. A flow is a table of named steps; a step takes the person's state and
// one input and returns the new state and replies. Replies are data (a
// message ID, template data and buttons) that the bot package renders in the
// person's language. Step names are stored with the state, so they are part
// of the storage format: renaming a step needs a migration.
package flows
