//! BLE edges: simulated radio, BlueZ advertising over D-Bus, btleplug scanning.
