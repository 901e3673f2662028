package payload_test

import (
	"errors"
	"fmt"

	"github.com/tiepdon/tiepdon/drivers/payload"
)

func ExampleParse() {
	id, err := payload.Parse([]byte("001090123456|012345678|NGUYEN VAN A|01011990|Nam|Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|15042021\r\n"))
	fmt.Println(id.Medium, id.CitizenID.Masked(), id.BirthDate, id.Sex, err)

	_, err = payload.Parse([]byte("001090123456~012345678~NGUYEN VAN A~01011990~Nam~Ha Noi~15042021"))
	fmt.Println(errors.Is(err, payload.ErrWrongLayout))
	fmt.Println(err)
	// Output:
	// qr-cccd 0010******56 01/01/1990 M <nil>
	// true
	// scan arrived in the wrong keyboard layout (keyboard is UK English: switch it to US English)
}
