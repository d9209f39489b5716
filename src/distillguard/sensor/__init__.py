"""distillguard.sensor"""
