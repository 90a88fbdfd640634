# Awards, tranches and reports arrive with the funding issue; the app exists so the layout is stable.
