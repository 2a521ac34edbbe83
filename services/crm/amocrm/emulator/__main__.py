"""`python -m services.crm.amocrm.emulator`: the emulated account on a local port."""

from services.crm.amocrm.emulator.runner import main

main()
