/*
 * pc64's DSDT: the i440FX host bridge + PIIX3/PIIX4 south bridge machine
 * (QEMU "pc" layout), written for pc64 and compiled at build time with
 * Debian's iasl (acpica-tools) into <build>/bios/acpi/dsdt_aml.h.
 *
 * Reference: ACPI 6.4 §5 (ACPI namespace), §6 (device configuration, _PRT
 * §6.2.13, interrupt link devices §6.2.16), §7.4.2 (_Sx objects);
 * PCI Firmware Specification 3.2 §4.1 (host bridge _CRS);
 * 82371SB PIIX3 data sheet §2.2 (PIRQRC[A:D], config 0x60-0x63);
 * 82371AB PIIX4 data sheet §4.7 (PM1_CNT SLP_TYP).
 *
 * Things C++ relies on (bios/acpi_tables.cpp):
 *  - \_SB.PCI0.PMST is a DWord constant (NameOp 'PMST' DWordPrefix): the
 *    table builder patches it with the start of the 32-bit PCI window,
 *    which depends on the RAM size. Keep it a DWord (iasl would shrink a
 *    small constant such as 0 to ZeroOp/BytePrefix).
 *  - SeaBIOS parses this table with a small AML walker (src/fw/dsdt_parser.c)
 *    to learn, among others, whether a PS/2 keyboard (PNP0303) exists: ISA
 *    device _HID values are EisaId() DWords and their _CRS are Names holding
 *    ResourceTemplates, and device bodies contain only Name/Method/
 *    OperationRegion/Field/Device objects (no bare If/Store) so the walker
 *    never loses its place.
 */
DefinitionBlock ("dsdt.aml", "DSDT", 2, "PC64  ", "PC64DSDT", 0x00000001)
{
    Scope (\_SB)
    {
        /* One processor (ACPI 6.4 §8.4: a processor Device, not the legacy
         * Processor() term, which iasl flags). _UID 0 matches the MADT
         * Local APIC entry with ACPI processor UID 0. No C2/C3 (the FADT
         * says the same), no throttling block. */
        Device (CPU0)
        {
            Name (_HID, "ACPI0007")
            Name (_UID, 0x00)
        }

        Device (PCI0)
        {
            /* A root bridge is named by _HID alone (a device with both _HID
             * and _ADR draws an iasl warning); the PCI_Config region below
             * takes bus 0 from _BBN and device/function from ISA's _ADR. */
            Name (_HID, EisaId ("PNP0A03"))     /* PCI host bridge */
            Name (_BBN, 0x00)
            Name (_UID, 0x00)

            /* Start of the 32-bit PCI memory window: RAM below 4 GiB rounded
             * up, at least 2 GiB. Patched by the table builder. */
            Name (PMST, 0x80000000)

            /* Resources decoded by the host bridge. _CRS completes the PCI
             * hole from PMST in place: PMST never changes while the OS runs,
             * so every evaluation writes the same values. */
            Name (CRES, ResourceTemplate ()
            {
                    WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                        0x0000, 0x0000, 0x00FF, 0x0000, 0x0100,,,)
                    /* The configuration mechanism #1 ports belong to the bridge. */
                    IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08,)
                    WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                        0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8,,, , TypeStatic, DenseTranslation)
                    WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                        0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300,,, , TypeStatic, DenseTranslation)
                    /* Legacy VGA frame buffer. */
                    DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                        0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000,,, , AddressRangeMemory, TypeStatic)
                    /* 32-bit PCI hole up to the I/O APIC; _MIN/_LEN set below. */
                    DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                        0x00000000, 0x80000000, 0xFEBFFFFF, 0x00000000, 0x7EC00000,,, PHOL, AddressRangeMemory, TypeStatic)
            })

            Method (_CRS, 0, Serialized)
            {
                CreateDWordField (CRES, \_SB.PCI0.PHOL._MIN, PMIN)
                CreateDWordField (CRES, \_SB.PCI0.PHOL._MAX, PMAX)
                CreateDWordField (CRES, \_SB.PCI0.PHOL._LEN, PLEN)
                PMIN = PMST
                PLEN = (PMAX - PMIN) + One
                Return (CRES)
            }

            /* PCI interrupt routing: INTx# of device D, pin P (0 = INTA#)
             * drives PIRQ (D - 1 + P) mod 4, the PIIX swizzle pc64's PCI bus
             * implements (io/pci_bus.h). Device 1 INTA# is the PIIX4 power
             * management function, whose interrupt is the SCI on IRQ 9 (LNKS). */
            Name (_PRT, Package ()
            {
                Package () {0x0001FFFF, 0, LNKS, 0}, Package () {0x0001FFFF, 1, LNKB, 0},
                Package () {0x0001FFFF, 2, LNKC, 0}, Package () {0x0001FFFF, 3, LNKD, 0},
                Package () {0x0002FFFF, 0, LNKB, 0}, Package () {0x0002FFFF, 1, LNKC, 0},
                Package () {0x0002FFFF, 2, LNKD, 0}, Package () {0x0002FFFF, 3, LNKA, 0},
                Package () {0x0003FFFF, 0, LNKC, 0}, Package () {0x0003FFFF, 1, LNKD, 0},
                Package () {0x0003FFFF, 2, LNKA, 0}, Package () {0x0003FFFF, 3, LNKB, 0},
                Package () {0x0004FFFF, 0, LNKD, 0}, Package () {0x0004FFFF, 1, LNKA, 0},
                Package () {0x0004FFFF, 2, LNKB, 0}, Package () {0x0004FFFF, 3, LNKC, 0},
                Package () {0x0005FFFF, 0, LNKA, 0}, Package () {0x0005FFFF, 1, LNKB, 0},
                Package () {0x0005FFFF, 2, LNKC, 0}, Package () {0x0005FFFF, 3, LNKD, 0},
                Package () {0x0006FFFF, 0, LNKB, 0}, Package () {0x0006FFFF, 1, LNKC, 0},
                Package () {0x0006FFFF, 2, LNKD, 0}, Package () {0x0006FFFF, 3, LNKA, 0},
                Package () {0x0007FFFF, 0, LNKC, 0}, Package () {0x0007FFFF, 1, LNKD, 0},
                Package () {0x0007FFFF, 2, LNKA, 0}, Package () {0x0007FFFF, 3, LNKB, 0},
                Package () {0x0008FFFF, 0, LNKD, 0}, Package () {0x0008FFFF, 1, LNKA, 0},
                Package () {0x0008FFFF, 2, LNKB, 0}, Package () {0x0008FFFF, 3, LNKC, 0},
                Package () {0x0009FFFF, 0, LNKA, 0}, Package () {0x0009FFFF, 1, LNKB, 0},
                Package () {0x0009FFFF, 2, LNKC, 0}, Package () {0x0009FFFF, 3, LNKD, 0},
                Package () {0x000AFFFF, 0, LNKB, 0}, Package () {0x000AFFFF, 1, LNKC, 0},
                Package () {0x000AFFFF, 2, LNKD, 0}, Package () {0x000AFFFF, 3, LNKA, 0},
                Package () {0x000BFFFF, 0, LNKC, 0}, Package () {0x000BFFFF, 1, LNKD, 0},
                Package () {0x000BFFFF, 2, LNKA, 0}, Package () {0x000BFFFF, 3, LNKB, 0},
                Package () {0x000CFFFF, 0, LNKD, 0}, Package () {0x000CFFFF, 1, LNKA, 0},
                Package () {0x000CFFFF, 2, LNKB, 0}, Package () {0x000CFFFF, 3, LNKC, 0},
                Package () {0x000DFFFF, 0, LNKA, 0}, Package () {0x000DFFFF, 1, LNKB, 0},
                Package () {0x000DFFFF, 2, LNKC, 0}, Package () {0x000DFFFF, 3, LNKD, 0},
                Package () {0x000EFFFF, 0, LNKB, 0}, Package () {0x000EFFFF, 1, LNKC, 0},
                Package () {0x000EFFFF, 2, LNKD, 0}, Package () {0x000EFFFF, 3, LNKA, 0},
                Package () {0x000FFFFF, 0, LNKC, 0}, Package () {0x000FFFFF, 1, LNKD, 0},
                Package () {0x000FFFFF, 2, LNKA, 0}, Package () {0x000FFFFF, 3, LNKB, 0},
                Package () {0x0010FFFF, 0, LNKD, 0}, Package () {0x0010FFFF, 1, LNKA, 0},
                Package () {0x0010FFFF, 2, LNKB, 0}, Package () {0x0010FFFF, 3, LNKC, 0},
                Package () {0x0011FFFF, 0, LNKA, 0}, Package () {0x0011FFFF, 1, LNKB, 0},
                Package () {0x0011FFFF, 2, LNKC, 0}, Package () {0x0011FFFF, 3, LNKD, 0},
                Package () {0x0012FFFF, 0, LNKB, 0}, Package () {0x0012FFFF, 1, LNKC, 0},
                Package () {0x0012FFFF, 2, LNKD, 0}, Package () {0x0012FFFF, 3, LNKA, 0},
                Package () {0x0013FFFF, 0, LNKC, 0}, Package () {0x0013FFFF, 1, LNKD, 0},
                Package () {0x0013FFFF, 2, LNKA, 0}, Package () {0x0013FFFF, 3, LNKB, 0},
                Package () {0x0014FFFF, 0, LNKD, 0}, Package () {0x0014FFFF, 1, LNKA, 0},
                Package () {0x0014FFFF, 2, LNKB, 0}, Package () {0x0014FFFF, 3, LNKC, 0},
                Package () {0x0015FFFF, 0, LNKA, 0}, Package () {0x0015FFFF, 1, LNKB, 0},
                Package () {0x0015FFFF, 2, LNKC, 0}, Package () {0x0015FFFF, 3, LNKD, 0},
                Package () {0x0016FFFF, 0, LNKB, 0}, Package () {0x0016FFFF, 1, LNKC, 0},
                Package () {0x0016FFFF, 2, LNKD, 0}, Package () {0x0016FFFF, 3, LNKA, 0},
                Package () {0x0017FFFF, 0, LNKC, 0}, Package () {0x0017FFFF, 1, LNKD, 0},
                Package () {0x0017FFFF, 2, LNKA, 0}, Package () {0x0017FFFF, 3, LNKB, 0},
                Package () {0x0018FFFF, 0, LNKD, 0}, Package () {0x0018FFFF, 1, LNKA, 0},
                Package () {0x0018FFFF, 2, LNKB, 0}, Package () {0x0018FFFF, 3, LNKC, 0},
                Package () {0x0019FFFF, 0, LNKA, 0}, Package () {0x0019FFFF, 1, LNKB, 0},
                Package () {0x0019FFFF, 2, LNKC, 0}, Package () {0x0019FFFF, 3, LNKD, 0},
                Package () {0x001AFFFF, 0, LNKB, 0}, Package () {0x001AFFFF, 1, LNKC, 0},
                Package () {0x001AFFFF, 2, LNKD, 0}, Package () {0x001AFFFF, 3, LNKA, 0},
                Package () {0x001BFFFF, 0, LNKC, 0}, Package () {0x001BFFFF, 1, LNKD, 0},
                Package () {0x001BFFFF, 2, LNKA, 0}, Package () {0x001BFFFF, 3, LNKB, 0},
                Package () {0x001CFFFF, 0, LNKD, 0}, Package () {0x001CFFFF, 1, LNKA, 0},
                Package () {0x001CFFFF, 2, LNKB, 0}, Package () {0x001CFFFF, 3, LNKC, 0},
                Package () {0x001DFFFF, 0, LNKA, 0}, Package () {0x001DFFFF, 1, LNKB, 0},
                Package () {0x001DFFFF, 2, LNKC, 0}, Package () {0x001DFFFF, 3, LNKD, 0},
                Package () {0x001EFFFF, 0, LNKB, 0}, Package () {0x001EFFFF, 1, LNKC, 0},
                Package () {0x001EFFFF, 2, LNKD, 0}, Package () {0x001EFFFF, 3, LNKA, 0},
                Package () {0x001FFFFF, 0, LNKC, 0}, Package () {0x001FFFFF, 1, LNKD, 0},
                Package () {0x001FFFFF, 2, LNKA, 0}, Package () {0x001FFFFF, 3, LNKB, 0}
            })

            /* PIIX3 PCI-to-ISA bridge, 00:01.0. */
            Device (ISA)
            {
                Name (_ADR, 0x00010000)

                /* PIRQRC[A:D]: bit 7 = routing disabled, bits 3:0 = ISA IRQ. */
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PRQA, 8,
                    PRQB, 8,
                    PRQC, 8,
                    PRQD, 8
                }

                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))     /* PS/2 keyboard (i8042) */
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01,)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01,)
                        IRQNoFlags () {1}
                    })
                }

                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))     /* PS/2 mouse */
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))     /* AT real-time clock */
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02,)
                        IRQNoFlags () {8}
                    })
                }

                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))     /* 16550A UART */
                    Name (_UID, One)
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08,)
                        IRQNoFlags () {4}
                    })
                }

                Device (PIC)
                {
                    Name (_HID, EisaId ("PNP0000"))     /* 8259A pair */
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0020, 0x0020, 0x01, 0x02,)
                        IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02,)
                        IO (Decode16, 0x04D0, 0x04D0, 0x01, 0x02,)   /* ELCR */
                        IRQNoFlags () {2}
                    })
                }

                Device (TMR)
                {
                    Name (_HID, EisaId ("PNP0100"))     /* 8254 PIT */
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0040, 0x0040, 0x01, 0x04,)
                        IRQNoFlags () {0}
                    })
                }

                Device (SPKR)
                {
                    Name (_HID, EisaId ("PNP0800"))     /* PC speaker (port B) */
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0061, 0x0061, 0x01, 0x01,)
                    })
                }

                Device (DMAC)
                {
                    Name (_HID, EisaId ("PNP0200"))     /* 8237A pair + page registers */
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0000, 0x0000, 0x01, 0x10,)
                        IO (Decode16, 0x0080, 0x0080, 0x01, 0x10,)
                        IO (Decode16, 0x00C0, 0x00C0, 0x01, 0x20,)
                        DMA (Compatibility, NotBusMaster, Transfer8_16, ) {4}
                    })
                }

                /* Motherboard resources no other device claims: the PIIX4 PM
                 * I/O block (PMBA 0x600, 64 bytes) and the APM control/status
                 * ports. (The reset control register 0xCF9 lies inside the
                 * host bridge's 0xCF8-0xCFF, which PCI0 already consumes.) */
                Device (MBRS)
                {
                    Name (_HID, EisaId ("PNP0C02"))
                    Name (_UID, One)
                    Name (_STA, 0x0F)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0600, 0x0600, 0x01, 0x40,)
                        IO (Decode16, 0x00B2, 0x00B2, 0x01, 0x02,)
                    })
                }
            }
        }

        /* _STA of a link from its PIRQRC value: present and enabled unless
         * routing is disabled (then present, disabled). */
        Method (IQST, 1, NotSerialized)
        {
            If (Arg0 & 0x80)
            {
                Return (0x09)
            }
            Return (0x0B)
        }

        /* _CRS of a link from its PIRQRC value: the routed ISA IRQ, or an
         * empty interrupt (0) while routing is disabled. */
        Method (IQCR, 1, Serialized)
        {
            /* Extended Interrupt descriptor: the first interrupt number is
             * the DWord at byte 5 (ACPI 6.4 §6.4.3.6), as _SRS reads it. */
            Local0 = ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, ) {0}
            }
            CreateDWordField (Local0, 0x05, PRRV)
            If (!(Arg0 & 0x80))
            {
                PRRV = Arg0 & 0x0F
            }
            Return (Local0)
        }

        /* PCI interrupt link devices for PIRQA-D. The choice of ISA IRQs
         * (5, 10, 11) matches the MADT's level/active-high source overrides. */
        Device (LNKA)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x01)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, ) {5, 10, 11}
            })
            Method (_STA, 0, NotSerialized) { Return (IQST (\_SB.PCI0.ISA.PRQA)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQA |= 0x80 }
            Method (_CRS, 0, NotSerialized) { Return (IQCR (\_SB.PCI0.ISA.PRQA)) }
            Method (_SRS, 1, NotSerialized)
            {
                CreateDWordField (Arg0, 0x05, IRQN)
                \_SB.PCI0.ISA.PRQA = IRQN
            }
        }

        Device (LNKB)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x02)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, ) {5, 10, 11}
            })
            Method (_STA, 0, NotSerialized) { Return (IQST (\_SB.PCI0.ISA.PRQB)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQB |= 0x80 }
            Method (_CRS, 0, NotSerialized) { Return (IQCR (\_SB.PCI0.ISA.PRQB)) }
            Method (_SRS, 1, NotSerialized)
            {
                CreateDWordField (Arg0, 0x05, IRQN)
                \_SB.PCI0.ISA.PRQB = IRQN
            }
        }

        Device (LNKC)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x03)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, ) {5, 10, 11}
            })
            Method (_STA, 0, NotSerialized) { Return (IQST (\_SB.PCI0.ISA.PRQC)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQC |= 0x80 }
            Method (_CRS, 0, NotSerialized) { Return (IQCR (\_SB.PCI0.ISA.PRQC)) }
            Method (_SRS, 1, NotSerialized)
            {
                CreateDWordField (Arg0, 0x05, IRQN)
                \_SB.PCI0.ISA.PRQC = IRQN
            }
        }

        Device (LNKD)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x04)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, ) {5, 10, 11}
            })
            Method (_STA, 0, NotSerialized) { Return (IQST (\_SB.PCI0.ISA.PRQD)) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQD |= 0x80 }
            Method (_CRS, 0, NotSerialized) { Return (IQCR (\_SB.PCI0.ISA.PRQD)) }
            Method (_SRS, 1, NotSerialized)
            {
                CreateDWordField (Arg0, 0x05, IRQN)
                \_SB.PCI0.ISA.PRQD = IRQN
            }
        }

        /* The PIIX4 PM function's interrupt: hard-wired to the SCI, IRQ 9
         * (FADT SCI_INT), level/active-high per the MADT override. */
        Device (LNKS)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x05)
            Name (_STA, 0x0B)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, ) {9}
            })
            Method (_SRS, 1, NotSerialized)
            {
            }
            Method (_DIS, 0, NotSerialized)
            {
            }
            Method (_CRS, 0, NotSerialized)
            {
                Return (_PRS)
            }
        }
    }

    /* Interrupt model (_PIC argument: 0 = PIC, 1 = APIC). The routing above
     * is the same in both models, so the value is only recorded. */
    Name (PICM, Zero)
    Method (_PIC, 1, NotSerialized)
    {
        PICM = Arg0
    }

    /* S5 (soft off). The PIIX4 encodes soft off as SLP_TYP 000b in PM1_CNT
     * (82371AB data sheet §4.7.2.2; QEMU's acpi_pm1_cnt_write treats
     * SLP_TYP 0 as power-off, and pc64's io/acpi_pm does the same). No S1-S4:
     * pc64 cannot suspend. Elements: PM1a SLP_TYP, PM1b SLP_TYP, reserved. */
    Name (_S5, Package (0x04)
    {
        0x00,
        0x00,
        0x00,
        0x00
    })
}
