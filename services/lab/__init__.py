"""Laboratory results arriving by themselves: HPRIM Santé and HL7 v2.5 ORU^R01 messages
read into results, filed to the right chart or left for a person to match."""
