package idcard_test

import (
	"errors"
	"fmt"
	"time"

	"pensionbot/idcard"
)

func ExampleParse() {
	now := time.Date(2026, time.June, 15, 10, 0, 0, 0, time.FixedZone("CST", 8*60*60))

	// Typed with a Chinese input method: full-width digits, spaces, lower-case x.
	id, err := idcard.Parse("１１０１０５ １９４９１２３１ ００２x", now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id) // masked, like every other way of printing an ID
	fmt.Println(id.Sex, id.Birth.Format(time.DateOnly), id.Age(now))

	_, err = idcard.Parse("110105194912310021", now)
	fmt.Println(errors.Is(err, idcard.ErrChecksum), err)

	// Output:
	// 110105********002X
	// female 1949-12-31 76
	// true idcard: id number 110105********0021: check character does not match
}
