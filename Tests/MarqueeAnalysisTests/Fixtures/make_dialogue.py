#!/usr/bin/env python3
"""Writes mars_mission.srt: about four minutes of scripted dialogue on one clear subject
(a crewed mission to Mars), one cue every four seconds, for the text-tagging tests.

    python3 Tests/MarqueeAnalysisTests/Fixtures/make_dialogue.py

Ground truth: the subject is space exploration (astronauts, a rocket, Mars); the top themes
should include "space exploration" and the keyphrases should name Mars or the mission.
Also writes mars_mission.json, a sidecar with a title and synopsis, and empty.srt.
"""
import json
import os

LINES = [
    "Houston, this is Ares Four. Main engine cutoff confirmed.",
    "Copy that, Ares Four. You are on course for Mars.",
    "Seven months in this capsule. I can already feel my legs getting weak.",
    "Keep up with the treadmill. Mars gravity is a third of Earth's, but you still need muscle.",
    "Commander, the oxygen scrubbers are showing a small pressure drop.",
    "Check the carbon dioxide filters. We cannot afford a leak this far from Earth.",
    "Filters look fine. It was a sensor glitch.",
    "Good. Log it for mission control.",
    "Look out the window. You can see Mars as a red dot now.",
    "The red planet. Four hundred million kilometers from home.",
    "Mission control says the dust storm over the landing site is clearing.",
    "We need a clear sky for the descent. The lander's radar can't see through dust.",
    "How much fuel do we have for orbital insertion?",
    "Enough for one burn and a small margin. We get one chance.",
    "Then let's not waste it. Run the orbital insertion checklist.",
    "Navigation computer is go. Attitude thrusters are go.",
    "Rocket engine primed. Burn in ten seconds.",
    "Three, two, one, ignition.",
    "Burn complete. We are in orbit around Mars.",
    "Welcome to Mars orbit, Ares Four. Outstanding work.",
    "Prepare the lander. We descend to the surface at dawn.",
    "Suits on. Helmets sealed. Check your oxygen supply.",
    "Oxygen at one hundred percent. Radio check, one, two.",
    "Heat shield temperature rising. Entering the Martian atmosphere.",
    "Parachutes deployed. Retro rockets firing.",
    "Altitude one hundred meters. Fifty. Twenty. Contact light.",
    "Touchdown. We have landed on Mars.",
    "Houston, the astronauts of Ares Four are on the surface of Mars.",
    "I'm opening the airlock. The ground is red dust and rock.",
    "First footprints on Mars. This is for everyone back on Earth.",
    "Collect soil samples near the crater rim. The scientists want to look for water ice.",
    "The drill is going down. Two meters. I think we hit ice.",
    "Water ice on Mars. That changes everything for future colonies.",
    "Set up the habitat module before the temperature drops.",
    "It gets to minus eighty degrees at night out here.",
    "Solar panels deployed. The habitat has power.",
    "Greenhouse seeds are planted. If the potatoes grow, we eat.",
    "Rover batteries are charged. Tomorrow we drive to the canyon.",
    "Valles Marineris. The biggest canyon in the solar system.",
    "Mission control wants photographs of the layered rock for the geologists.",
    "Another dust storm is forming to the south. Satellite images confirm it.",
    "How long until it reaches the habitat?",
    "Two days, maybe three. We should secure the antenna.",
    "If we lose communication with Earth, we follow the contingency plan.",
    "The storm is here. Wind speed one hundred kilometers per hour.",
    "The habitat is holding. Pressure is stable.",
    "Communication with Earth is down. Twenty minutes of signal delay was bad enough.",
    "We are alone on Mars now. Just the four of us.",
    "The storm is passing. I can see the sun again, small and pale.",
    "Antenna realigned. Houston, do you read?",
    "Ares Four, we read you. Glad to hear your voices.",
    "The return rocket is fueled. Launch window opens in thirty sols.",
    "Thirty days on Mars. Then the long trip home to Earth.",
    "I'll miss the view. The sunsets here are blue.",
    "Final samples stowed. The ascent vehicle is ready.",
    "Liftoff from Mars. Goodbye, red planet.",
    "Docking with the orbiter in two hours. Engines nominal.",
    "Trans-Earth injection burn complete. We are going home.",
    "Seven months back. Then the next crew comes to Mars.",
    "Every crew carries the baton a little farther than the one before.",
]


def stamp(seconds):
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "mars_mission.srt"), "w", encoding="utf-8") as f:
        for i, line in enumerate(LINES):
            start = 1.0 + 4.0 * i
            f.write(f"{i + 1}\n{stamp(start)} --> {stamp(start + 3.5)}\n{line}\n\n")
    with open(os.path.join(here, "mars_mission.json"), "w", encoding="utf-8") as f:
        json.dump({"title": "Ares Four",
                   "synopsis": "Four astronauts fly a rocket to Mars, land on the red planet, survive a dust storm "
                               "and find water ice before the long journey home.",
                   "genres": ["Science Fiction", "Drama"],
                   "keywords": ["astronauts", "Mars", "space mission"]}, f, indent=1)
        f.write("\n")
    open(os.path.join(here, "empty.srt"), "w").close()


if __name__ == "__main__":
    main()
